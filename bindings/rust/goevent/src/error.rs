//! The crate's error type.

use std::fmt;
use std::io;

use goevent_sys as sys;

/// Why a call failed.
///
/// ```
/// use goevent::{Error, EvBuffer};
///
/// let mut buf = EvBuffer::new()?;
/// buf.freeze(false)?; // no more adding at the end
/// let err = buf.add(b"x").unwrap_err();
/// assert_eq!(err, Error::Call { op: "evbuffer_add", errno: None });
/// assert_eq!(err.to_string(), "evbuffer_add failed");
/// let io: std::io::Error = err.into();
/// assert_eq!(io.kind(), std::io::ErrorKind::Other);
/// # Ok::<(), goevent::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The C function `op` reported failure. `errno` is set when the
    /// failure came from a system call (read, write, connect, bind, ...).
    Call {
        op: &'static str,
        errno: Option<i32>,
    },
    /// The object was freed (its owner dropped inside one of its own
    /// callbacks) and the handle passed to that callback was used after.
    Closed,
    /// An argument the library would reject or misread, caught before the
    /// call (for example a size beyond the buffer's length).
    Invalid(&'static str),
}

/// `Result<T, goevent::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// The errno of a failed system call, if that is what failed.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Call { errno, .. } => *errno,
            _ => None,
        }
    }

    /// A failure of `op`, with the errno the call left (if any).
    pub(crate) fn last(op: &'static str) -> Error {
        Error::Call {
            op,
            errno: last_errno(),
        }
    }

    /// A failure of `op` that is not a system call's.
    pub(crate) fn plain(op: &'static str) -> Error {
        Error::Call { op, errno: None }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Call { op, errno: Some(e) } => {
                write!(f, "{op} failed: {}", io::Error::from_raw_os_error(*e))
            }
            Error::Call { op, errno: None } => write!(f, "{op} failed"),
            Error::Closed => f.write_str("object already freed"),
            Error::Invalid(what) => write!(f, "invalid argument: {what}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<Error> for io::Error {
    fn from(err: Error) -> io::Error {
        match err.errno() {
            Some(e) => io::Error::from_raw_os_error(e),
            None => io::Error::other(err),
        }
    }
}

/// Reset errno so a failure without a system call reports none.
pub(crate) fn clear_errno() {
    // SAFETY: glibc's per-thread errno location is always valid.
    unsafe { *sys::__errno_location() = 0 }
}

pub(crate) fn last_errno() -> Option<i32> {
    // SAFETY: as above.
    let e = unsafe { *sys::__errno_location() };
    (e != 0).then_some(e)
}

/// `0`/`-1` C results into `Result`, reading errno on failure.
pub(crate) fn check(rc: i32, op: &'static str) -> Result<()> {
    if rc < 0 {
        Err(Error::last(op))
    } else {
        Ok(())
    }
}

/// Like [`check`] for calls that never fail through a system call.
pub(crate) fn check_plain(rc: i32, op: &'static str) -> Result<()> {
    if rc < 0 {
        Err(Error::plain(op))
    } else {
        Ok(())
    }
}
