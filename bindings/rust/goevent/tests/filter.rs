//! Filter bufferevents with closures as the filters.

use std::cell::{Cell, RefCell};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Duration;

use goevent::{
    BevEvents, BevOptions, BufferEvent, EvBufferRef, EventBase, Events, FilterResult, Flush,
    Listener,
};

const MS: Duration = Duration::from_millis(1);

/// Run the loop a short while (pairs deliver from the loop).
fn spin(base: &EventBase) {
    base.loopexit(Some(50 * MS)).unwrap();
    base.dispatch().unwrap();
}

#[derive(Debug, PartialEq, Eq)]
enum Log {
    Filter(usize, Option<usize>, Flush),
    Read(Vec<u8>),
}

#[test]
fn input_filter_waits_for_whole_lines() {
    let base = EventBase::new().unwrap();
    let log = RefCell::new(Vec::new());
    let (mut a, b) = BufferEvent::pair(&base, BevOptions::empty()).unwrap();
    let mut f = BufferEvent::filter(b)
        .input(|src, dst, limit, mode| {
            log.borrow_mut().push(Log::Filter(src.len(), limit, mode));
            let Some(end) = src.search(b"\n", 0) else {
                return FilterResult::NeedMore;
            };
            let mut line = vec![0; end + 1];
            src.remove(&mut line).unwrap();
            dst.add(&line.to_ascii_uppercase()).unwrap();
            FilterResult::Ok
        })
        .build()
        .unwrap();
    f.on_read(|b| log.borrow_mut().push(Log::Read(b.read_to_vec())));
    f.enable(Events::READ | Events::WRITE).unwrap();
    a.enable(Events::READ | Events::WRITE).unwrap();
    a.write(b"hel").unwrap();
    spin(&base);
    a.write(b"lo\nwor").unwrap();
    spin(&base);
    f.set_watermark(Events::READ, 0, 4); // the filter now gets a limit
    a.write(b"ld\n").unwrap();
    spin(&base);
    assert_eq!(
        *log.borrow(),
        [
            Log::Filter(3, None, Flush::Normal),
            Log::Filter(9, None, Flush::Normal),
            // after Ok the filter runs again until it needs more
            Log::Filter(3, None, Flush::Normal),
            Log::Read(b"HELLO\n".to_vec()),
            Log::Filter(6, Some(4), Flush::Normal),
            Log::Read(b"WORLD\n".to_vec()),
        ]
    );
}

fn frame(
    log: &RefCell<Vec<Log>>,
    src: &mut EvBufferRef,
    dst: &mut EvBufferRef,
    limit: Option<usize>,
    mode: Flush,
) -> FilterResult {
    log.borrow_mut().push(Log::Filter(src.len(), limit, mode));
    let body = src.to_vec();
    src.drain(body.len()).unwrap();
    dst.add(b"[").unwrap();
    dst.add(&body).unwrap();
    dst.add(b"]").unwrap();
    FilterResult::Ok
}

#[test]
fn output_filter_frames_and_flushes() {
    let base = EventBase::new().unwrap();
    let log = RefCell::new(Vec::new());
    let (m, mut n) = BufferEvent::pair(&base, BevOptions::empty()).unwrap();
    let mut o = BufferEvent::filter(m)
        .output(|src, dst, limit, mode| frame(&log, src, dst, limit, mode))
        .build()
        .unwrap();
    n.on_read(|b| log.borrow_mut().push(Log::Read(b.read_to_vec())));
    n.enable(Events::READ).unwrap();
    o.enable(Events::WRITE).unwrap();
    o.write(b"one").unwrap();
    // The output filter runs inside the write, the peer from the loop.
    assert_eq!(*log.borrow(), [Log::Filter(3, None, Flush::Normal)]);
    spin(&base);
    o.underlying().unwrap().set_watermark(Events::WRITE, 0, 2);
    o.write(b"two").unwrap();
    spin(&base);
    assert!(o.flush(Events::WRITE, Flush::Finished).unwrap());
    spin(&base);
    assert_eq!(
        *log.borrow(),
        [
            Log::Filter(3, None, Flush::Normal),
            Log::Read(b"[one]".to_vec()),
            // the underlying's write high watermark limits the filter
            Log::Filter(3, Some(2), Flush::Normal),
            Log::Read(b"[two]".to_vec()),
            // a flush calls the filter even with nothing buffered
            Log::Filter(0, None, Flush::Finished),
            Log::Read(b"[]".to_vec()),
        ]
    );
}

#[test]
fn failing_filters_stop_the_data() {
    let base = EventBase::new().unwrap();
    let log = RefCell::new(Vec::new());
    let (mut a, b) = BufferEvent::pair(&base, BevOptions::empty()).unwrap();
    let mut refuse = BufferEvent::filter(b)
        .input(|src, _dst, _limit, _mode| {
            log.borrow_mut().push(format!("refuse {}", src.len()));
            FilterResult::Error
        })
        .build()
        .unwrap();
    refuse.on_read(|_| log.borrow_mut().push("refuse read".into()));
    refuse.on_event(|_, ev| log.borrow_mut().push(format!("refuse event {:?}", ev.what)));
    refuse.enable(Events::READ).unwrap();
    a.write(b"xyz").unwrap();
    spin(&base);
    // libevent 2.1 reports no event for a failed filter: the data stops.
    assert_eq!(*log.borrow(), ["refuse 3"]);

    let (mut c, d) = BufferEvent::pair(&base, BevOptions::empty()).unwrap();
    let mut broken = BufferEvent::filter(d)
        .input(|src, dst, _limit, _mode| {
            log.borrow_mut().push(format!("broken {}", src.len()));
            dst.add(b"half").unwrap();
            panic!("filter panic for the test");
        })
        .build()
        .unwrap();
    broken.on_read(|_| log.borrow_mut().push("broken read".into()));
    broken.enable(Events::READ).unwrap();
    c.write(b"abc").unwrap();
    base.loopexit(Some(2000 * MS)).unwrap();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| base.dispatch()));
    let payload = outcome.expect_err("the panic resumes from dispatch");
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"filter panic for the test")
    );
    // The panic counted as an error: nothing was delivered.
    spin(&base);
    assert_eq!(*log.borrow(), ["refuse 3", "broken 3"]);
}

/// XOR every byte with 0x5a, as much as the limit allows.
fn scramble(src: &mut EvBufferRef, dst: &mut EvBufferRef, limit: Option<usize>) -> FilterResult {
    let n = limit.map_or(src.len(), |l| l.min(src.len()));
    if n == 0 {
        return FilterResult::NeedMore;
    }
    let mut chunk = vec![0; n];
    src.remove(&mut chunk).unwrap();
    chunk.iter_mut().for_each(|b| *b ^= 0x5a);
    dst.add(&chunk).unwrap();
    FilterResult::Ok
}

#[test]
fn filters_both_ways_over_a_socket() {
    const SIZE: usize = 256 << 10;
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 7 + i / 256) as u8).collect();
    let base = EventBase::new().unwrap();
    let on_wire = RefCell::new(Vec::new());
    let received = RefCell::new(Vec::new());
    let events = RefCell::new(Vec::new());
    let servers = RefCell::new(Vec::new());
    let listener = Listener::bind(&base, "127.0.0.1:0".parse().unwrap(), |sock, _| {
        let mut server = BufferEvent::socket(&base, Some(sock), BevOptions::empty()).unwrap();
        server.on_read(|b| {
            let chunk = b.read_to_vec();
            on_wire.borrow_mut().extend_from_slice(&chunk);
            b.write(&chunk).unwrap();
        });
        server.enable(Events::READ | Events::WRITE).unwrap();
        servers.borrow_mut().push(server);
    })
    .unwrap();
    let sock = BufferEvent::socket(&base, None, BevOptions::empty()).unwrap();
    let mut client = BufferEvent::filter(sock)
        .input(|src, dst, limit, _| scramble(src, dst, limit))
        .output(|src, dst, limit, _| scramble(src, dst, limit))
        .build()
        .unwrap();
    client.on_read(|b| {
        let mut got = received.borrow_mut();
        got.extend(b.read_to_vec());
        if got.len() >= SIZE {
            base.loopbreak().unwrap();
        }
    });
    client.on_event(|b, ev| {
        events.borrow_mut().push(ev.what);
        if ev.what.contains(BevEvents::CONNECTED) {
            b.write(&data).unwrap();
        }
    });
    client.enable(Events::READ | Events::WRITE).unwrap();
    // Connecting is the underlying socket's business.
    let addr = listener.local_addr().unwrap();
    client.underlying().unwrap().connect(addr).unwrap();
    base.loopexit(Some(Duration::from_secs(20))).unwrap();
    base.dispatch().unwrap();
    // The server hangs up; the client hears it through its filter.
    servers.borrow_mut().clear();
    spin(&base);
    assert_eq!(
        *events.borrow(),
        [BevEvents::CONNECTED, BevEvents::EOF | BevEvents::READING]
    );
    let wire = on_wire.borrow();
    assert_eq!(wire.len(), SIZE);
    assert!(
        wire.iter().zip(&data).all(|(w, d)| *w == d ^ 0x5a),
        "the wire carried filtered bytes"
    );
    assert!(*received.borrow() == data, "echoed bytes differ");
}

#[test]
fn dropping_a_filter_frees_its_underlying() {
    let base = EventBase::new().unwrap();
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let sock = BufferEvent::socket(&base, Some(OwnedFd::from(ours)), BevOptions::empty()).unwrap();
    let mut f = BufferEvent::filter(sock)
        .options(BevOptions::CLOSE_ON_FREE) // changes nothing
        .build()
        .unwrap();
    assert!(f.underlying().unwrap().fd().is_some());
    f.write(b"bye").unwrap();
    spin(&base);
    drop(f);
    spin(&base);
    let mut got = Vec::new();
    theirs.read_to_end(&mut got).unwrap(); // EOF: the socket was closed
    assert_eq!(got, b"bye");
}

struct SetOnDrop(Rc<Cell<bool>>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn a_filter_may_drop_its_own_bufferevent() {
    let base = EventBase::new().unwrap();
    let (mut a, b) = BufferEvent::pair(&base, BevOptions::empty()).unwrap();
    let slot: Rc<RefCell<Option<BufferEvent<'_>>>> = Rc::new(RefCell::new(None));
    let calls = Rc::new(Cell::new(0));
    let closure_dropped = Rc::new(Cell::new(false));
    let f = {
        let slot = Rc::clone(&slot);
        let calls = Rc::clone(&calls);
        let guard = SetOnDrop(Rc::clone(&closure_dropped));
        BufferEvent::filter(b)
            .input(move |_src, _dst, _limit, _mode| {
                let _ = &guard;
                calls.set(calls.get() + 1);
                // Frees the filter (and the pair end under it) while this
                // closure runs; the closure itself goes once it returns.
                drop(slot.borrow_mut().take());
                FilterResult::NeedMore
            })
            .build()
            .unwrap()
    };
    *slot.borrow_mut() = Some(f);
    slot.borrow_mut()
        .as_mut()
        .unwrap()
        .enable(Events::READ)
        .unwrap();
    a.write(b"first").unwrap();
    spin(&base);
    assert_eq!(calls.get(), 1);
    assert!(closure_dropped.get());
    assert!(slot.borrow().is_none());
    assert_eq!(Rc::strong_count(&slot), 1);
    a.write(b"second").unwrap(); // the partner is gone: nothing runs
    spin(&base);
    assert_eq!(calls.get(), 1);
}
