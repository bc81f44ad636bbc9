//! [`EvBuffer`] (an owned `struct evbuffer`) and [`EvBufferRef`] (any
//! evbuffer, borrowed).

use std::ffi::c_int;
use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::ops::{Deref, DerefMut, Range};
use std::os::fd::{AsFd, AsRawFd};
use std::ptr::NonNull;
use std::slice;

use crate::error::{check_plain, clear_errno, Error, Result};
use goevent_sys as sys;

/// Line endings for [`EvBufferRef::read_line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Eol {
    /// Any run of CR and LF characters.
    Any = sys::EVBUFFER_EOL_ANY,
    /// CRLF, or a bare LF.
    Crlf = sys::EVBUFFER_EOL_CRLF,
    /// Exactly CRLF.
    CrlfStrict = sys::EVBUFFER_EOL_CRLF_STRICT,
    /// Exactly LF.
    Lf = sys::EVBUFFER_EOL_LF,
    /// A NUL byte.
    Nul = sys::EVBUFFER_EOL_NUL,
}

/// An owned buffer: `evbuffer_new` on creation, `evbuffer_free` on drop.
///
/// All operations come from [`EvBufferRef`] through `Deref`. Only an owned
/// buffer offers safe zero-copy views ([`pullup`](Self::pullup),
/// [`peek`](Self::peek)): nothing but its owner can change it, so the
/// borrow checker can keep a view from outliving the bytes.
///
/// `EvBuffer` is `Send` (the library keeps no per-thread state for a
/// buffer) but not `Sync`: without `evbuffer_enable_locking` and a thread
/// library a buffer must not be used from two threads at once, and even
/// its reading calls may rearrange it internally.
///
/// ```
/// use goevent::{Eol, EvBuffer};
///
/// let mut buf = EvBuffer::with_data(b"GET / HTTP/1.1\r\nHost: x\r\n")?;
/// assert_eq!(buf.read_line(Eol::Crlf).as_deref(), Some(&b"GET / HTTP/1.1"[..]));
/// assert_eq!(buf.search(b"x", 0), Some(6));
/// assert_eq!(buf.pullup(None)?, b"Host: x\r\n"); // contiguous, not copied
/// let mut rest = EvBuffer::new()?;
/// rest.add_buffer(&mut buf)?; // moves the chunks
/// assert_eq!((buf.len(), rest.len()), (0, 9));
/// # Ok::<(), goevent::Error>(())
/// ```
pub struct EvBuffer {
    ptr: NonNull<sys::evbuffer>,
}

// SAFETY: see the type's documentation; exclusive ownership moves with it.
unsafe impl Send for EvBuffer {}

impl EvBuffer {
    /// An empty buffer.
    pub fn new() -> Result<Self> {
        // SAFETY: no preconditions.
        let ptr = unsafe { sys::evbuffer_new() };
        NonNull::new(ptr)
            .map(|ptr| EvBuffer { ptr })
            .ok_or(Error::plain("evbuffer_new"))
    }

    /// A buffer holding a copy of `data`.
    pub fn with_data(data: &[u8]) -> Result<Self> {
        let mut buf = Self::new()?;
        buf.add(data)?;
        Ok(buf)
    }

    /// Take ownership of a buffer from C.
    ///
    /// # Safety
    /// `ptr` is a live evbuffer that nothing else frees or uses.
    pub unsafe fn from_raw(ptr: NonNull<sys::evbuffer>) -> Self {
        EvBuffer { ptr }
    }

    /// Give up ownership; the caller must `evbuffer_free` the pointer.
    pub fn into_raw(self) -> NonNull<sys::evbuffer> {
        let ptr = self.ptr;
        std::mem::forget(self);
        ptr
    }

    /// The first `size` bytes (all if `None`), made contiguous, without a
    /// copy on the Rust side. The slice borrows the buffer, so it cannot
    /// outlive the next change.
    pub fn pullup(&mut self, size: Option<usize>) -> Result<&[u8]> {
        // SAFETY: the result borrows `self` mutably, and an owned buffer is
        // changed only through `self`.
        unsafe { self.deref_mut().pullup_unchecked(size) }
    }

    /// The chunks holding the first `size` bytes (all if `None`), in
    /// order, without copying or moving anything.
    pub fn peek(&self, size: Option<usize>) -> Vec<&[u8]> {
        // SAFETY: as for `pullup`; `&self` rules out changes meanwhile.
        unsafe { self.deref().peek_unchecked(size) }
    }
}

impl Drop for EvBuffer {
    fn drop(&mut self) {
        // SAFETY: we own the buffer.
        unsafe { sys::evbuffer_free(self.ptr.as_ptr()) }
    }
}

impl Deref for EvBuffer {
    type Target = EvBufferRef;
    fn deref(&self) -> &EvBufferRef {
        // SAFETY: the buffer lives as long as `self`.
        unsafe { EvBufferRef::from_ptr(self.ptr.as_ptr()) }
    }
}

impl DerefMut for EvBuffer {
    fn deref_mut(&mut self) -> &mut EvBufferRef {
        // SAFETY: as above, and `&mut self` is exclusive.
        unsafe { EvBufferRef::from_ptr(self.ptr.as_ptr()) }
    }
}

impl fmt::Debug for EvBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.deref().fmt(f)
    }
}

/// Any evbuffer, borrowed: an owned [`EvBuffer`], or a bufferevent's input
/// or output.
///
/// Zero-sized: a `&mut EvBufferRef` is the C pointer itself. Methods that
/// only copy are safe everywhere. Views into the bytes are `unsafe` here
/// because a bufferevent's buffers are changed by the event loop behind
/// the borrow checker's back; [`EvBuffer`] wraps them safely.
#[repr(transparent)]
pub struct EvBufferRef(sys::evbuffer);

impl EvBufferRef {
    /// # Safety
    /// `ptr` is a live evbuffer for `'a`, used through nothing else
    /// meanwhile that Rust would consider a conflicting borrow.
    pub unsafe fn from_ptr<'a>(ptr: *mut sys::evbuffer) -> &'a mut Self {
        &mut *ptr.cast::<Self>()
    }

    /// The C pointer.
    pub fn as_ptr(&self) -> *mut sys::evbuffer {
        self as *const Self as *mut sys::evbuffer
    }

    /// Bytes stored.
    pub fn len(&self) -> usize {
        // SAFETY: `self` is a live buffer (all methods below rely on this).
        unsafe { sys::evbuffer_get_length(self.as_ptr()) }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes available contiguously at the front.
    pub fn contiguous_space(&self) -> usize {
        unsafe { sys::evbuffer_get_contiguous_space(self.as_ptr()) }
    }

    /// Append a copy of `data`.
    pub fn add(&mut self, data: &[u8]) -> Result<()> {
        let rc = unsafe { sys::evbuffer_add(self.as_ptr(), data.as_ptr().cast(), data.len()) };
        check_plain(rc, "evbuffer_add")
    }

    /// Insert a copy of `data` at the front.
    pub fn prepend(&mut self, data: &[u8]) -> Result<()> {
        let rc = unsafe { sys::evbuffer_prepend(self.as_ptr(), data.as_ptr().cast(), data.len()) };
        check_plain(rc, "evbuffer_prepend")
    }

    /// Move all of `src` to the end of this buffer (chunks move, bytes are
    /// not copied where the library can avoid it).
    pub fn add_buffer(&mut self, src: &mut EvBufferRef) -> Result<()> {
        let rc = unsafe { sys::evbuffer_add_buffer(self.as_ptr(), src.as_ptr()) };
        check_plain(rc, "evbuffer_add_buffer")
    }

    /// Move all of `src` to the front of this buffer.
    pub fn prepend_buffer(&mut self, src: &mut EvBufferRef) -> Result<()> {
        let rc = unsafe { sys::evbuffer_prepend_buffer(self.as_ptr(), src.as_ptr()) };
        check_plain(rc, "evbuffer_prepend_buffer")
    }

    /// Move up to `len` bytes from the front of this buffer to the end of
    /// `dst`; returns how many moved.
    pub fn move_to(&mut self, dst: &mut EvBufferRef, len: usize) -> Result<usize> {
        let rc = unsafe { sys::evbuffer_remove_buffer(self.as_ptr(), dst.as_ptr(), len) };
        check_plain(rc, "evbuffer_remove_buffer")?;
        Ok(rc as usize)
    }

    /// Take up to `out.len()` bytes off the front into `out`.
    pub fn remove(&mut self, out: &mut [u8]) -> Result<usize> {
        let rc = unsafe { sys::evbuffer_remove(self.as_ptr(), out.as_mut_ptr().cast(), out.len()) };
        check_plain(rc, "evbuffer_remove")?;
        Ok(rc as usize)
    }

    /// Copy up to `out.len()` bytes from the front, leaving them in place.
    pub fn copy_out(&self, out: &mut [u8]) -> Result<usize> {
        let rc =
            unsafe { sys::evbuffer_copyout(self.as_ptr(), out.as_mut_ptr().cast(), out.len()) };
        check_plain(rc as c_int, "evbuffer_copyout")?;
        Ok(rc as usize)
    }

    /// Copy up to `out.len()` bytes starting `offset` bytes in.
    pub fn copy_out_from(&self, offset: usize, out: &mut [u8]) -> Result<usize> {
        let pos = self.position(offset)?;
        let rc = unsafe {
            sys::evbuffer_copyout_from(self.as_ptr(), &pos, out.as_mut_ptr().cast(), out.len())
        };
        check_plain(rc as c_int, "evbuffer_copyout_from")?;
        Ok(rc as usize)
    }

    /// A copy of the whole contents.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = vec![0; self.len()];
        let n = self.copy_out(&mut out).unwrap_or(0);
        out.truncate(n);
        out
    }

    /// Discard up to `len` bytes from the front.
    pub fn drain(&mut self, len: usize) -> Result<()> {
        let rc = unsafe { sys::evbuffer_drain(self.as_ptr(), len) };
        check_plain(rc, "evbuffer_drain")
    }

    /// Remove one line and return it without its ending, or `None` if no
    /// complete line is buffered.
    pub fn read_line(&mut self, eol: Eol) -> Option<Vec<u8>> {
        let mut n = 0usize;
        let line = unsafe { sys::evbuffer_readln(self.as_ptr(), &mut n, eol as c_int) };
        if line.is_null() {
            return None;
        }
        // SAFETY: the library returned `n` bytes (plus a NUL) from malloc.
        let out = unsafe { slice::from_raw_parts(line.cast::<u8>(), n).to_vec() };
        unsafe { sys::free(line.cast()) };
        Some(out)
    }

    fn position(&self, offset: usize) -> Result<sys::evbuffer_ptr> {
        let mut pos = sys::evbuffer_ptr::default();
        let rc = unsafe {
            sys::evbuffer_ptr_set(self.as_ptr(), &mut pos, offset, sys::EVBUFFER_PTR_SET)
        };
        if rc < 0 {
            return Err(Error::Invalid("offset beyond the end of the buffer"));
        }
        Ok(pos)
    }

    /// Offset of the first `needle` at or after `start`.
    pub fn search(&self, needle: &[u8], start: usize) -> Option<usize> {
        self.search_range(needle, start..self.len())
    }

    /// Offset of the first `needle` lying entirely within `range`.
    pub fn search_range(&self, needle: &[u8], range: Range<usize>) -> Option<usize> {
        let end = range.end.min(self.len());
        if range.start > end || end - range.start < needle.len() {
            return None;
        }
        if needle.is_empty() {
            return Some(range.start);
        }
        let begin = self.position(range.start).ok()?;
        let found = if end == self.len() {
            unsafe {
                sys::evbuffer_search(self.as_ptr(), needle.as_ptr().cast(), needle.len(), &begin)
            }
        } else {
            let stop = self.position(end).ok()?;
            unsafe {
                sys::evbuffer_search_range(
                    self.as_ptr(),
                    needle.as_ptr().cast(),
                    needle.len(),
                    &begin,
                    &stop,
                )
            }
        };
        usize::try_from(found.pos).ok()
    }

    /// The first line ending at or after `start`: its offset and length.
    pub fn search_eol(&self, start: usize, eol: Eol) -> Option<(usize, usize)> {
        let mut begin = self.position(start).ok()?;
        let mut eol_len = 0usize;
        let found = unsafe {
            sys::evbuffer_search_eol(self.as_ptr(), &mut begin, &mut eol_len, eol as c_int)
        };
        usize::try_from(found.pos).ok().map(|pos| (pos, eol_len))
    }

    /// Make room for `len` more bytes without another allocation.
    pub fn expand(&mut self, len: usize) -> Result<()> {
        let rc = unsafe { sys::evbuffer_expand(self.as_ptr(), len) };
        check_plain(rc, "evbuffer_expand")
    }

    /// Append up to `max` bytes written in place by `fill` (no copy):
    /// `fill` gets at least `max` bytes of uninitialised space and returns
    /// how many it initialised, from the start.
    pub fn append_with(
        &mut self,
        max: usize,
        fill: impl FnOnce(&mut [MaybeUninit<u8>]) -> usize,
    ) -> Result<usize> {
        let size = isize::try_from(max).map_err(|_| Error::Invalid("size too large"))?;
        let mut vec = sys::evbuffer_iovec::default();
        let n = unsafe { sys::evbuffer_reserve_space(self.as_ptr(), size, &mut vec, 1) };
        if n != 1 {
            return Err(Error::plain("evbuffer_reserve_space"));
        }
        // SAFETY: the reservation is ours until committed, and `fill` cannot
        // reach this buffer (it is borrowed mutably here).
        let space = unsafe {
            slice::from_raw_parts_mut(vec.iov_base.cast::<MaybeUninit<u8>>(), vec.iov_len)
        };
        let written = fill(space);
        if written > vec.iov_len {
            return Err(Error::Invalid("fill reported more bytes than it was given"));
        }
        vec.iov_len = written;
        let rc = unsafe { sys::evbuffer_commit_space(self.as_ptr(), &mut vec, 1) };
        check_plain(rc, "evbuffer_commit_space")?;
        Ok(written)
    }

    /// Append up to `max` bytes (the library's default if `None`) read
    /// from `fd`. Returns the count; 0 means end of file.
    pub fn read_from(&mut self, fd: impl AsFd, max: Option<usize>) -> Result<usize> {
        let howmuch = max.map_or(-1, |m| m.min(c_int::MAX as usize) as c_int);
        clear_errno();
        let rc = unsafe { sys::evbuffer_read(self.as_ptr(), fd.as_fd().as_raw_fd(), howmuch) };
        if rc < 0 {
            return Err(Error::last("evbuffer_read"));
        }
        Ok(rc as usize)
    }

    /// Write up to `max` bytes (everything if `None`) to `fd`, draining
    /// what was written. Returns the count.
    pub fn write_to(&mut self, fd: impl AsFd, max: Option<usize>) -> Result<usize> {
        let howmuch = max.map_or(-1, |m| m.min(isize::MAX as usize) as isize);
        clear_errno();
        let rc =
            unsafe { sys::evbuffer_write_atmost(self.as_ptr(), fd.as_fd().as_raw_fd(), howmuch) };
        if rc < 0 {
            return Err(Error::last("evbuffer_write_atmost"));
        }
        Ok(rc as usize)
    }

    /// Forbid changes at the front (`front`) or the back of the buffer.
    pub fn freeze(&mut self, front: bool) -> Result<()> {
        let rc = unsafe { sys::evbuffer_freeze(self.as_ptr(), front as c_int) };
        check_plain(rc, "evbuffer_freeze")
    }

    /// Undo [`freeze`](Self::freeze).
    pub fn unfreeze(&mut self, front: bool) -> Result<()> {
        let rc = unsafe { sys::evbuffer_unfreeze(self.as_ptr(), front as c_int) };
        check_plain(rc, "evbuffer_unfreeze")
    }

    /// The first `size` bytes (all if `None`), made contiguous in place.
    ///
    /// # Safety
    /// The slice is valid until the buffer next changes in any way: through
    /// this handle, through the library (a bufferevent's buffers change
    /// whenever the event loop runs), or by being freed. The caller must
    /// stop using it before then.
    pub unsafe fn pullup_unchecked<'a>(&mut self, size: Option<usize>) -> Result<&'a [u8]> {
        let len = self.len();
        let n = size.unwrap_or(len);
        if n > len {
            return Err(Error::Invalid("pullup beyond the end of the buffer"));
        }
        if n == 0 {
            return Ok(&[]);
        }
        let data = sys::evbuffer_pullup(self.as_ptr(), n as isize);
        if data.is_null() {
            return Err(Error::plain("evbuffer_pullup"));
        }
        Ok(slice::from_raw_parts(data, n))
    }

    /// The chunks holding the first `size` bytes (all if `None`).
    ///
    /// # Safety
    /// As for [`pullup_unchecked`](Self::pullup_unchecked).
    pub unsafe fn peek_unchecked<'a>(&self, size: Option<usize>) -> Vec<&'a [u8]> {
        let len = size.map_or(-1, |s| s.min(isize::MAX as usize) as isize);
        let count = sys::evbuffer_peek(
            self.as_ptr(),
            len,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
        if count <= 0 {
            return Vec::new();
        }
        let mut vecs = vec![sys::evbuffer_iovec::default(); count as usize];
        let got = sys::evbuffer_peek(
            self.as_ptr(),
            len,
            std::ptr::null_mut(),
            vecs.as_mut_ptr(),
            count,
        );
        let mut left = size.unwrap_or(usize::MAX);
        let mut out = Vec::with_capacity(got.max(0) as usize);
        for vec in &vecs[..got.clamp(0, count) as usize] {
            // The last chunk may run past `size`: cut it there.
            let n = vec.iov_len.min(left);
            if n == 0 {
                break;
            }
            out.push(slice::from_raw_parts(
                vec.iov_base.cast::<u8>().cast_const(),
                n,
            ));
            left -= n;
        }
        out
    }
}

impl io::Write for EvBufferRef {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.add(data)?;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Read for EvBufferRef {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        Ok(self.remove(out)?)
    }
}

impl fmt::Debug for EvBufferRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EvBuffer")
            .field("ptr", &self.as_ptr())
            .field("len", &self.len())
            .finish()
    }
}
