//! EventBase and Event: timers, fd readiness, loop control, panics.

use std::cell::{Cell, RefCell};
use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::{Duration, Instant};

use goevent::{Error, Event, EventBase, Events, Exit, LoopFlags};

const MS: Duration = Duration::from_millis(1);

#[test]
fn version_and_method() {
    assert!(goevent::version().starts_with("2.1.12"));
    let base = EventBase::new().unwrap();
    assert!(
        ["epoll", "poll", "select"].contains(&base.method()),
        "{}",
        base.method()
    );
    assert_eq!(base.dispatch().unwrap(), Exit::Empty);
}

#[test]
fn timers_fire_in_deadline_order() {
    let base = EventBase::new().unwrap();
    let order = RefCell::new(Vec::new());
    let mut timers = Vec::new();
    // Measured from before the adds: a delay between an add and the clock
    // reading would otherwise shorten what is measured. The lower bounds
    // below allow for the library's coarse monotonic clock (libevent's
    // too), by which a deadline may pass a clock step (up to a few ms)
    // early.
    let started = Instant::now();
    for (delay, tag) in [(30, 3), (10, 1), (20, 2)] {
        let order = &order;
        let mut ev = Event::timer(&base, false, move |_| order.borrow_mut().push(tag)).unwrap();
        ev.add(Some(delay * MS)).unwrap();
        timers.push(ev);
    }
    assert_eq!(base.dispatch().unwrap(), Exit::Empty);
    assert!(started.elapsed() >= 20 * MS);
    assert_eq!(*order.borrow(), [1, 2, 3]);
}

#[test]
fn persistent_timer_deletes_itself_through_its_handle() {
    let base = EventBase::new().unwrap();
    let ticks = Cell::new(0);
    let mut ev = Event::timer(&base, true, |handle| {
        ticks.set(ticks.get() + 1);
        if ticks.get() == 5 {
            handle.del().unwrap();
        }
    })
    .unwrap();
    ev.add(Some(2 * MS)).unwrap();
    assert!(ev.pending(Events::TIMEOUT).contains(Events::TIMEOUT));
    // No bound on the elapsed time: the loop's clock is the coarse
    // monotonic one, as libevent's, so five 2 ms ticks may take less than
    // 10 ms of precise time.
    assert_eq!(base.dispatch().unwrap(), Exit::Empty);
    assert_eq!(ticks.get(), 5);
    assert!(ev.pending(Events::TIMEOUT).is_empty());
}

#[test]
fn one_shot_timer_readds_itself() {
    let base = EventBase::new().unwrap();
    let ticks = Cell::new(0);
    let mut ev = Event::timer(&base, false, |handle| {
        ticks.set(ticks.get() + 1);
        if ticks.get() < 3 {
            handle.add(Some(MS)).unwrap();
        }
    })
    .unwrap();
    ev.add(Some(MS)).unwrap();
    base.dispatch().unwrap();
    assert_eq!(ticks.get(), 3);
}

#[test]
fn loopexit_loopbreak_and_flags() {
    let base = EventBase::new().unwrap();
    let ticks = Cell::new(0);
    let mut ev = Event::timer(&base, true, |_| ticks.set(ticks.get() + 1)).unwrap();
    ev.add(Some(2 * MS)).unwrap();

    let started = Instant::now();
    base.loopexit(Some(30 * MS)).unwrap();
    assert_eq!(base.dispatch().unwrap(), Exit::Stopped);
    assert!(started.elapsed() >= 20 * MS);
    assert!(base.got_exit() && !base.got_break());
    assert!(ticks.get() >= 3);

    let before = ticks.get();
    base.run(LoopFlags::ONCE).unwrap();
    assert_eq!(ticks.get(), before + 1);
    base.run(LoopFlags::NONBLOCK).unwrap();
    assert!(ticks.get() <= before + 2);

    let mut breaker = Event::timer(&base, false, |_| base.loopbreak().unwrap()).unwrap();
    breaker.add(Some(5 * MS)).unwrap();
    assert_eq!(base.dispatch().unwrap(), Exit::Stopped);
    assert!(base.got_break());
}

#[test]
fn activate_runs_callback_with_given_flags() {
    let base = EventBase::new().unwrap();
    let seen = Cell::new(Events::empty());
    let mut ev = Event::new(&base, None, Events::empty(), |_, what| seen.set(what)).unwrap();
    ev.activate(Events::READ | Events::TIMEOUT).unwrap();
    base.dispatch().unwrap();
    assert_eq!(seen.get(), Events::READ | Events::TIMEOUT);
}

#[test]
fn fd_readiness_and_timeout() {
    let (mut a, b) = UnixStream::pair().unwrap();
    b.set_nonblocking(true).unwrap();
    let base = EventBase::new().unwrap();
    let got = RefCell::new(Vec::new());

    let mut reader = Event::new(&base, Some(b.as_fd()), Events::READ, |_, what| {
        let mut buf = [0u8; 16];
        let n = (&b).read(&mut buf).unwrap_or(0);
        got.borrow_mut().push((what, buf[..n].to_vec()));
    })
    .unwrap();

    // Nothing to read: the timeout fires instead.
    reader.add(Some(10 * MS)).unwrap();
    base.dispatch().unwrap();
    a.write_all(b"ping").unwrap();
    reader.add(Some(Duration::from_secs(5))).unwrap();
    base.dispatch().unwrap();
    assert_eq!(
        *got.borrow(),
        [(Events::TIMEOUT, vec![]), (Events::READ, b"ping".to_vec())]
    );

    let writes = Cell::new(0);
    let mut writer = Event::new(
        &base,
        Some(a.as_fd()),
        Events::WRITE | Events::PERSIST,
        |h, what| {
            assert_eq!(what, Events::WRITE);
            writes.set(writes.get() + 1);
            if writes.get() == 3 {
                h.del().unwrap();
            }
        },
    )
    .unwrap();
    writer.add(None).unwrap();
    base.dispatch().unwrap();
    assert_eq!(writes.get(), 3);
}

#[test]
fn event_dropped_inside_its_own_callback() {
    let base = EventBase::new().unwrap();
    let slot: Rc<RefCell<Option<Event<'_>>>> = Rc::new(RefCell::new(None));
    let after = Rc::new(Cell::new(None));
    let ev = {
        let slot = Rc::clone(&slot);
        let after = Rc::clone(&after);
        Event::timer(&base, true, move |handle| {
            let me = slot.borrow_mut().take();
            drop(me); // frees the event (and would free this closure)
            after.set(Some(handle.add(None)));
        })
        .unwrap()
    };
    *slot.borrow_mut() = Some(ev);
    slot.borrow_mut().as_mut().unwrap().add(Some(MS)).unwrap();
    assert_eq!(base.dispatch().unwrap(), Exit::Empty);
    assert_eq!(after.take(), Some(Err(Error::Closed)));
    assert!(slot.borrow().is_none());
}

#[test]
fn panic_in_callback_stops_loop_and_resumes() {
    let base = EventBase::new().unwrap();
    let ticks = Cell::new(0);
    let mut ev = Event::timer(&base, true, |_| {
        ticks.set(ticks.get() + 1);
        if ticks.get() == 2 {
            panic!("callback panic for the test");
        }
    })
    .unwrap();
    ev.add(Some(MS)).unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| base.dispatch()));
    let payload = result.unwrap_err();
    assert_eq!(
        payload.downcast_ref::<&str>(),
        Some(&"callback panic for the test")
    );
    assert_eq!(ticks.get(), 2);
    // The loop is usable afterwards.
    base.loopexit(Some(10 * MS)).unwrap();
    base.dispatch().unwrap();
    assert!(ticks.get() > 2);
}

#[test]
fn reentrant_dispatch_is_an_error() {
    let base = EventBase::new().unwrap();
    let inner = RefCell::new(None);
    let mut ev = Event::timer(&base, false, |_| {
        *inner.borrow_mut() = Some(base.dispatch());
    })
    .unwrap();
    ev.add(Some(Duration::ZERO)).unwrap();
    base.dispatch().unwrap();
    assert!(matches!(
        inner.borrow().as_ref(),
        Some(Err(Error::Call { .. }))
    ));
}

#[test]
fn base_moves_to_another_thread() {
    let base = EventBase::new().unwrap();
    let fired = std::thread::spawn(move || {
        let fired = Cell::new(false);
        let mut ev = Event::timer(&base, false, |_| fired.set(true)).unwrap();
        ev.add(Some(MS)).unwrap();
        base.dispatch().unwrap();
        fired.get()
    })
    .join()
    .unwrap();
    assert!(fired);
}
