//! Pairs of bufferevents connected in memory (`bufferevent_pair_new`).
//!
//! Kept apart from the socket tests so that a library without pairs still
//! links and runs those.

use std::cell::RefCell;
use std::time::Duration;

use goevent::{BevOptions, BufferEvent, EventBase, Events, LoopFlags};

const MS: Duration = Duration::from_millis(1);

#[test]
fn pair_ping_pong() {
    let base = EventBase::new().unwrap();
    let log = RefCell::new(Vec::new());
    let (mut left, mut right) = BufferEvent::pair(&base, BevOptions::empty()).unwrap();
    right.on_read(|b| {
        let msg = b.read_to_vec();
        log.borrow_mut()
            .push(format!("right {}", String::from_utf8_lossy(&msg)));
        if msg.len() < 4 {
            let mut reply = msg.clone();
            reply.push(b'!');
            b.write(&reply).unwrap();
        }
    });
    left.on_read(|b| {
        let msg = b.read_to_vec();
        log.borrow_mut()
            .push(format!("left {}", String::from_utf8_lossy(&msg)));
        let mut reply = msg.clone();
        reply.push(b'?');
        b.write(&reply).unwrap();
    });
    left.enable(Events::READ | Events::WRITE).unwrap();
    right.enable(Events::READ | Events::WRITE).unwrap();
    left.write(b"a").unwrap();
    assert!(log.borrow().is_empty(), "pair callbacks are deferred");
    base.loopexit(Some(50 * MS)).unwrap();
    base.dispatch().unwrap();
    assert_eq!(
        *log.borrow(),
        [
            "right a",
            "left a!",
            "right a!?",
            "left a!?!",
            "right a!?!?"
        ]
    );
}

#[test]
fn deferred_pair_callbacks_run_from_the_loop() {
    let base = EventBase::new().unwrap();
    let got = RefCell::new(Vec::new());
    let (mut left, mut right) = BufferEvent::pair(&base, BevOptions::DEFER_CALLBACKS).unwrap();
    right.on_read(|b| got.borrow_mut().push(b.read_to_vec()));
    right.enable(Events::READ).unwrap();
    left.write(b"later").unwrap();
    assert!(got.borrow().is_empty());
    base.run(LoopFlags::NONBLOCK).unwrap();
    assert_eq!(*got.borrow(), [b"later".to_vec()]);
}
