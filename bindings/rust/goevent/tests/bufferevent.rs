//! BufferEvent and Listener: loopback echo, pairs, watermarks, lifetimes.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use goevent::{BevEvent, BevEvents, BevOptions, BufferEvent, Error, EventBase, Events, Listener};

const MS: Duration = Duration::from_millis(1);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// A nonblocking socket pair: one end for a BufferEvent, one for the test.
fn socket_pair() -> (OwnedFd, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (OwnedFd::from(a), b)
}

fn pattern(len: usize) -> Vec<u8> {
    let mut x = 0x2545_f491_u32;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

#[test]
fn loopback_echo() {
    const TOTAL: usize = 4 << 20;
    let data = pattern(TOTAL);
    let base = EventBase::new().unwrap();
    // Declared before what captures them: closures must outlive nothing.
    let server_events = RefCell::new(Vec::new());
    let server_conns = RefCell::new(Vec::new());
    let peers = RefCell::new(Vec::new());

    let listener = Listener::bind(&base, loopback(), |sock, peer| {
        peers.borrow_mut().push(peer);
        let mut bev = BufferEvent::socket(&base, Some(sock), BevOptions::empty()).unwrap();
        // Backpressure: at most 64 KiB in flight per direction.
        bev.set_watermark(Events::READ, 0, 64 << 10);
        bev.on_read(|b| {
            let (input, output) = b.buffers();
            output.add_buffer(input).unwrap();
        });
        bev.on_event(|b, ev| {
            server_events.borrow_mut().push(ev.what);
            b.disable(Events::READ | Events::WRITE).unwrap();
        });
        bev.enable(Events::READ | Events::WRITE).unwrap();
        server_conns.borrow_mut().push(bev);
    })
    .unwrap();
    let addr = listener.local_addr().unwrap();
    assert_ne!(addr.port(), 0);

    let sent = Cell::new(0);
    let received = RefCell::new(Vec::with_capacity(TOTAL));
    let client_events = RefCell::new(Vec::new());
    let mut client = BufferEvent::socket(&base, None, BevOptions::empty()).unwrap();
    let refill = |b: &mut goevent::BufferEventRef| {
        // Top up the output in 64 KiB pieces whenever it has drained.
        while sent.get() < TOTAL && b.output().len() < 64 << 10 {
            let end = (sent.get() + (64 << 10)).min(TOTAL);
            b.write(&data[sent.get()..end]).unwrap();
            sent.set(end);
        }
    };
    client.set_watermark(Events::WRITE, 16 << 10, 0);
    client.on_write(refill);
    client.on_event(|b, ev| {
        client_events.borrow_mut().push(ev);
        if ev.what.contains(BevEvents::CONNECTED) {
            refill(b);
        }
    });
    client.on_read(|b| {
        let mut got = received.borrow_mut();
        got.extend(b.read_to_vec());
        if got.len() >= TOTAL {
            base.loopexit(None).unwrap();
        }
    });
    client.connect(addr).unwrap();
    client.enable(Events::READ | Events::WRITE).unwrap();
    base.loopexit(Some(Duration::from_secs(20))).unwrap(); // never hang
    base.dispatch().unwrap();

    assert_eq!(received.borrow().len(), TOTAL);
    assert!(*received.borrow() == data, "echoed bytes differ");
    assert_eq!(
        *client_events.borrow(),
        [BevEvent {
            what: BevEvents::CONNECTED,
            errno: None
        }]
    );
    assert_eq!(peers.borrow().len(), 1);
    assert_eq!(peers.borrow()[0].ip(), addr.ip());

    // Closing the client gives the server EOF.
    drop(client);
    base.loopexit(Some(200 * MS)).unwrap();
    base.dispatch().unwrap();
    assert_eq!(
        *server_events.borrow(),
        [BevEvents::EOF | BevEvents::READING]
    );
}

#[test]
fn connect_refused_carries_errno() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let base = EventBase::new().unwrap();
    let seen = RefCell::new(Vec::new());
    let mut bev = BufferEvent::socket(&base, None, BevOptions::empty()).unwrap();
    bev.on_event(|_, ev| {
        seen.borrow_mut().push(ev);
        base.loopexit(None).unwrap();
    });
    bev.connect(SocketAddr::from(([127, 0, 0, 1], port)))
        .unwrap();
    base.loopexit(Some(Duration::from_secs(5))).unwrap();
    base.dispatch().unwrap();
    let seen = seen.borrow();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].what.contains(BevEvents::ERROR), "{:?}", seen[0]);
    assert_eq!(seen[0].errno, Some(111), "ECONNREFUSED");
}

#[test]
fn listener_bind_error_and_local_addr() {
    let base = EventBase::new().unwrap();
    let first = Listener::bind(&base, loopback(), |_, _| {}).unwrap();
    let taken = first.local_addr().unwrap();
    let blocker = TcpListener::bind("127.0.0.1:0").unwrap();
    let busy = blocker.local_addr().unwrap();
    // SO_REUSEADDR (which the listener sets) does not take an active port.
    let err = Listener::bind(&base, busy, |_, _| {}).unwrap_err();
    assert_eq!(err.errno(), Some(98), "EADDRINUSE: {err}");
    assert_eq!(taken.ip(), loopback().ip());
}

#[test]
fn read_watermarks() {
    let (fd, mut peer) = socket_pair();
    let base = EventBase::new().unwrap();
    let seen = RefCell::new(Vec::new());
    let mut bev = BufferEvent::socket(&base, Some(fd), BevOptions::empty()).unwrap();
    bev.set_watermark(Events::READ, 10, 1000);
    bev.on_read(|b| seen.borrow_mut().push(b.input().len()));
    bev.enable(Events::READ).unwrap();

    peer.write_all(b"12345").unwrap();
    base.loopexit(Some(20 * MS)).unwrap();
    base.dispatch().unwrap();
    assert!(seen.borrow().is_empty(), "5 bytes are below the low mark");

    peer.write_all(&[b'x'; 5000]).unwrap();
    base.loopexit(Some(30 * MS)).unwrap();
    base.dispatch().unwrap();
    assert!(!seen.borrow().is_empty());
    assert!(seen.borrow().iter().all(|&n| (10..=1000).contains(&n)));
    assert_eq!(bev.input().len(), 1000, "reading stops at the high mark");
    bev.input().drain(1000).unwrap();
    base.loopexit(Some(30 * MS)).unwrap();
    base.dispatch().unwrap();
    assert_eq!(bev.input().len(), 1000, "and resumes below it");
}

#[test]
fn write_watermark_and_timeouts() {
    let (fd, mut peer) = socket_pair();
    let base = EventBase::new().unwrap();
    let at = RefCell::new(Vec::new());
    let events = RefCell::new(Vec::new());
    let mut bev = BufferEvent::socket(&base, Some(fd), BevOptions::empty()).unwrap();
    bev.set_watermark(Events::WRITE, 100, 0);
    bev.on_write(|b| {
        at.borrow_mut().push(b.output().len());
        base.loopexit(None).unwrap();
    });
    bev.write(&[b'w'; 300_000]).unwrap();
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut chunk = [0u8; 65536];
        while all.len() < 300_000 {
            let n = peer.read(&mut chunk).unwrap();
            assert!(n > 0);
            all.extend_from_slice(&chunk[..n]);
        }
        (peer, all.len())
    });
    base.loopexit(Some(Duration::from_secs(5))).unwrap();
    base.dispatch().unwrap();
    let (_peer, n) = reader.join().unwrap();
    assert_eq!(n, 300_000);
    assert_eq!(*at.borrow(), [0]);

    bev.set_timeouts(Some(20 * MS), None).unwrap();
    bev.on_event(|_, ev| {
        events.borrow_mut().push(ev.what);
        base.loopexit(None).unwrap();
    });
    bev.enable(Events::READ).unwrap();
    base.loopexit(Some(Duration::from_secs(5))).unwrap();
    base.dispatch().unwrap();
    assert_eq!(*events.borrow(), [BevEvents::TIMEOUT | BevEvents::READING]);
    assert!(
        !bev.enabled().contains(Events::READ),
        "a timeout disables reading"
    );
}

#[test]
fn dropped_inside_its_own_callback() {
    let (fd, mut peer) = socket_pair();
    let base = EventBase::new().unwrap();
    let slot: Rc<RefCell<Option<BufferEvent<'_>>>> = Rc::new(RefCell::new(None));
    let outcome = Rc::new(RefCell::new(Vec::new()));
    let mut bev = BufferEvent::socket(&base, Some(fd), BevOptions::empty()).unwrap();
    {
        let slot = Rc::clone(&slot);
        let outcome = Rc::clone(&outcome);
        bev.on_read(move |b| {
            outcome.borrow_mut().push(Ok(b.read_to_vec().len()));
            drop(slot.borrow_mut().take()); // frees this bufferevent
            outcome.borrow_mut().push(b.write(b"too late").map(|_| 0));
            outcome.borrow_mut().push(b.enable(Events::READ).map(|_| 0));
        });
    }
    bev.enable(Events::READ).unwrap();
    *slot.borrow_mut() = Some(bev);
    peer.write_all(b"bye").unwrap();
    base.loopexit(Some(50 * MS)).unwrap();
    base.dispatch().unwrap();
    assert_eq!(
        *outcome.borrow(),
        [Ok(3), Err(Error::Closed), Err(Error::Closed)]
    );
    assert!(slot.borrow().is_none());
    // The socket was closed with the bufferevent.
    let mut rest = Vec::new();
    peer.read_to_end(&mut rest).unwrap();
    assert!(rest.is_empty());
}

#[test]
fn panic_in_bufferevent_callback_surfaces_from_dispatch() {
    let (fd, mut peer) = socket_pair();
    let base = EventBase::new().unwrap();
    let got = RefCell::new(Vec::new());
    let mut bev = BufferEvent::socket(&base, Some(fd), BevOptions::empty()).unwrap();
    bev.on_read(|_| panic!("callback panic for the test"));
    bev.enable(Events::READ).unwrap();
    peer.write_all(b"x").unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| base.dispatch()));
    let payload = caught.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"callback panic for the test")
    );
    // The bufferevent and the loop still work.
    bev.on_read(|b| {
        got.borrow_mut().push(b.read_to_vec());
        base.loopexit(None).unwrap();
    });
    peer.write_all(b"y").unwrap();
    base.loopexit(Some(Duration::from_secs(5))).unwrap();
    base.dispatch().unwrap();
    assert_eq!(*got.borrow(), [b"xy".to_vec()]);
}

#[test]
fn replacing_a_callback_from_inside_it() {
    let (fd, mut peer) = socket_pair();
    let base = EventBase::new().unwrap();
    let calls = Rc::new(RefCell::new(Vec::new()));
    let bev = BufferEvent::socket(&base, Some(fd), BevOptions::empty()).unwrap();
    let bev = Rc::new(RefCell::new(bev));
    {
        let (me, calls, base) = (Rc::clone(&bev), Rc::clone(&calls), &base);
        bev.borrow_mut().on_read(move |b| {
            calls
                .borrow_mut()
                .push(format!("first {:?}", b.read_to_vec()));
            base.loopexit(None).unwrap();
            let calls = Rc::clone(&calls);
            // Re-registering while running takes effect after it returns.
            me.borrow_mut().on_read(move |b| {
                calls
                    .borrow_mut()
                    .push(format!("second {:?}", b.read_to_vec()));
                base.loopexit(None).unwrap();
            });
        });
    }
    bev.borrow_mut().enable(Events::READ).unwrap();
    for byte in [1u8, 2] {
        peer.write_all(&[byte]).unwrap();
        base.loopexit(Some(Duration::from_secs(5))).unwrap();
        base.dispatch().unwrap();
    }
    assert_eq!(*calls.borrow(), ["first [1]", "second [2]"]);
    // The closures hold `bev`: replace them to break the cycle.
    bev.borrow_mut().on_read(|_| {});
    assert_eq!(Rc::strong_count(&bev), 1);
}
