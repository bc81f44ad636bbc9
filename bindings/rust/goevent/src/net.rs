//! Converting between `std::net::SocketAddr` and C socket addresses.

use std::ffi::c_int;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use goevent_sys as sys;

const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

/// `struct sockaddr_in`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct SockaddrIn {
    family: u16,
    port: [u8; 2],
    addr: [u8; 4],
    zero: [u8; 8],
}

/// `struct sockaddr_in6`.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct SockaddrIn6 {
    family: u16,
    port: [u8; 2],
    flowinfo: [u8; 4],
    addr: [u8; 16],
    scope_id: u32,
}

/// A socket address laid out for C.
pub(crate) enum RawAddr {
    V4(SockaddrIn),
    V6(SockaddrIn6),
}

impl RawAddr {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        match addr {
            SocketAddr::V4(a) => RawAddr::V4(SockaddrIn {
                family: AF_INET,
                port: a.port().to_be_bytes(),
                addr: a.ip().octets(),
                zero: [0; 8],
            }),
            SocketAddr::V6(a) => RawAddr::V6(SockaddrIn6 {
                family: AF_INET6,
                port: a.port().to_be_bytes(),
                flowinfo: a.flowinfo().to_be_bytes(),
                addr: a.ip().octets(),
                scope_id: a.scope_id(),
            }),
        }
    }

    pub(crate) fn as_ptr(&self) -> *const sys::sockaddr {
        match self {
            RawAddr::V4(a) => (a as *const SockaddrIn).cast(),
            RawAddr::V6(a) => (a as *const SockaddrIn6).cast(),
        }
    }

    pub(crate) fn len(&self) -> c_int {
        match self {
            RawAddr::V4(_) => std::mem::size_of::<SockaddrIn>() as c_int,
            RawAddr::V6(_) => std::mem::size_of::<SockaddrIn6>() as c_int,
        }
    }
}

/// Read a C socket address; `None` for other families or short lengths.
///
/// # Safety
/// `sa` points at `len` readable bytes.
pub(crate) unsafe fn from_raw(sa: *const sys::sockaddr, len: c_int) -> Option<SocketAddr> {
    let len = usize::try_from(len).ok()?;
    if sa.is_null() || len < 2 {
        return None;
    }
    let family = sa.cast::<u16>().read_unaligned();
    match family {
        AF_INET if len >= std::mem::size_of::<SockaddrIn>() => {
            let a = sa.cast::<SockaddrIn>().read_unaligned();
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(a.addr),
                u16::from_be_bytes(a.port),
            )))
        }
        AF_INET6 if len >= std::mem::size_of::<SockaddrIn6>() => {
            let a = sa.cast::<SockaddrIn6>().read_unaligned();
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.addr),
                u16::from_be_bytes(a.port),
                u32::from_be_bytes(a.flowinfo),
                a.scope_id,
            )))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_both_families() {
        let addrs: [SocketAddr; 3] = [
            "127.0.0.1:8080".parse().unwrap(),
            "[::1]:443".parse().unwrap(),
            SocketAddr::V6(SocketAddrV6::new("fe80::1".parse().unwrap(), 9, 0x12345, 3)),
        ];
        for addr in addrs {
            let raw = RawAddr::new(addr);
            // SAFETY: `raw` holds `raw.len()` bytes.
            assert_eq!(unsafe { from_raw(raw.as_ptr(), raw.len()) }, Some(addr));
        }
    }

    #[test]
    fn matches_the_c_layout() {
        assert_eq!(std::mem::size_of::<SockaddrIn>(), 16);
        assert_eq!(std::mem::size_of::<SockaddrIn6>(), 28);
        let raw = RawAddr::new("10.1.2.3:258".parse().unwrap());
        // SAFETY: 16 readable bytes.
        let bytes = unsafe { std::slice::from_raw_parts(raw.as_ptr().cast::<u8>(), 16) };
        assert_eq!(&bytes[..8], &[2, 0, 1, 2, 10, 1, 2, 3]);
    }

    #[test]
    fn rejects_short_or_foreign_addresses() {
        let raw = RawAddr::new("127.0.0.1:1".parse().unwrap());
        assert_eq!(unsafe { from_raw(raw.as_ptr(), 8) }, None);
        let unix = [1u8, 0, b'/', 0];
        assert_eq!(unsafe { from_raw(unix.as_ptr().cast(), 4) }, None);
    }
}
