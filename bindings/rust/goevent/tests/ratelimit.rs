//! Rate limits: a bufferevent's own bucket, groups and their totals, and
//! the single read/write caps.

use std::cell::RefCell;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use goevent::{
    BevOptions, BufferEvent, BufferEventRef, Error, EventBase, Events, RateLimit, RateLimitGroup,
    Totals, RATE_LIMIT_MAX,
};

const TICK: Duration = Duration::from_millis(50);
const MAX: isize = RATE_LIMIT_MAX as isize;

/// A socket bufferevent, and the other end as a blocking stream.
fn socket<'b>(base: &'b EventBase) -> (BufferEvent<'b>, UnixStream) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    ours.set_nonblocking(true).unwrap();
    let bev = BufferEvent::socket(base, Some(OwnedFd::from(ours)), BevOptions::empty()).unwrap();
    (bev, theirs)
}

/// Run until `done()` or a 10 s guard; the time it took.
fn run_until(base: &EventBase) -> Duration {
    let start = Instant::now();
    base.loopexit(Some(Duration::from_secs(10))).unwrap();
    base.dispatch().unwrap();
    assert!(!base.got_exit(), "the guard expired");
    start.elapsed()
}

#[test]
fn own_bucket_meters_reads() {
    let base = EventBase::new().unwrap();
    let reads = RefCell::new(Vec::new()); // before what captures it
    let (mut reader, mut peer) = socket(&base);
    assert_eq!((reader.read_limit(), reader.max_to_read()), (MAX, 16384));
    let limit = RateLimit::new(1000, 1000, RATE_LIMIT_MAX, RATE_LIMIT_MAX, Some(TICK)).unwrap();
    reader.set_rate_limit(Some(&limit)).unwrap();
    drop(limit); // the bufferevent keeps its own handle
    let kept = reader.rate_limit().unwrap();
    assert_eq!((kept.read(), kept.tick()), ((1000, 1000), TICK));
    assert_eq!(reader.read_limit(), 1000); // starts with one tick's worth
    assert_eq!(reader.write_limit(), MAX);
    reader.decrement_read_limit(300).unwrap();
    assert_eq!((reader.read_limit(), reader.max_to_read()), (700, 700));
    reader.decrement_read_limit(-300).unwrap();

    reader.on_read(|b| {
        let limit = b.read_limit();
        let n = b.read_to_vec().len();
        let mut reads = reads.borrow_mut();
        reads.push((n, limit));
        if reads.iter().map(|r| r.0).sum::<usize>() >= 6000 {
            base.loopbreak().unwrap();
        }
    });
    reader.enable(Events::READ).unwrap();
    peer.write_all(&[1; 6000]).unwrap();
    let elapsed = run_until(&base);
    // Burst == rate: each read takes all of one tick's tokens.
    assert_eq!(*reads.borrow(), [(1000, 0); 6]);
    // Five refills were needed; the first may come at once.
    assert!(elapsed >= TICK * 4 * 9 / 10, "{elapsed:?}");

    reader.set_rate_limit(None).unwrap();
    assert!(reader.rate_limit().is_none());
    assert_eq!(reader.read_limit(), MAX);
}

#[test]
fn own_bucket_meters_writes() {
    let base = EventBase::new().unwrap();
    let (mut writer, mut peer) = socket(&base);
    let limit = RateLimit::new(RATE_LIMIT_MAX, RATE_LIMIT_MAX, 2000, 2000, Some(TICK)).unwrap();
    writer.set_rate_limit(Some(&limit)).unwrap();
    assert_eq!((writer.write_limit(), writer.max_to_write()), (2000, 2000));
    writer.on_write(|_| base.loopbreak().unwrap()); // all written
    let start = Instant::now();
    writer.write(&[2; 8000]).unwrap();
    run_until(&base);
    let elapsed = start.elapsed();
    let mut got = vec![0; 8000];
    std::io::Read::read_exact(&mut peer, &mut got).unwrap();
    assert_eq!(got, [2; 8000]);
    assert!(elapsed >= TICK * 3 * 9 / 10, "{elapsed:?}");
}

#[test]
fn group_shares_its_budget_and_counts_totals() {
    let base = EventBase::new().unwrap();
    let group_limit = RateLimit::new(4000, 4000, 4000, 4000, Some(TICK)).unwrap();
    let group = RateLimitGroup::new(&base, &group_limit).unwrap();
    assert_eq!((group.read_limit(), group.write_limit()), (4000, 4000));
    assert_eq!(group.totals(), Totals::default());
    let got = RefCell::new([0usize; 2]);
    let (mut b, mut peer_b) = socket(&base);
    let (mut d, mut peer_d) = socket(&base);
    b.join_group(&group).unwrap();
    d.join_group(&group).unwrap();
    assert!(b.in_group(&group) && d.in_group(&group));
    assert_eq!(group.len(), 2);
    // Two members wanting to read: half each.
    assert_eq!((b.max_to_read(), d.max_to_read()), (2000, 2000));
    // An own bucket tighter than the share wins.
    let tight = RateLimit::new(1000, 1000, 1000, 1000, Some(TICK)).unwrap();
    b.set_rate_limit(Some(&tight)).unwrap();
    assert_eq!(b.max_to_read(), 1000);
    b.set_rate_limit(None).unwrap();
    group.decrement_read(500).unwrap();
    assert_eq!(group.read_limit(), 3500);
    group.decrement_read(-500).unwrap();
    group.decrement_write(100).unwrap();
    assert_eq!((group.read_limit(), group.write_limit()), (4000, 3900));

    let reader = |i: usize| {
        let got = &got;
        let base = &base;
        move |bev: &mut BufferEventRef| {
            let mut got = got.borrow_mut();
            got[i] += bev.read_to_vec().len();
            if got[0] >= 10000 && got[1] >= 10000 {
                base.loopbreak().unwrap();
            }
        }
    };
    b.on_read(reader(0));
    d.on_read(reader(1));
    b.enable(Events::READ).unwrap();
    d.enable(Events::READ).unwrap();
    peer_b.write_all(&[3; 10000]).unwrap();
    peer_d.write_all(&[4; 10000]).unwrap();
    let elapsed = run_until(&base);
    assert_eq!(*got.borrow(), [10000, 10000]);
    // Only readers are members: 20000 bytes read, none written.
    assert_eq!(
        group.totals(),
        Totals {
            read: 20000,
            written: 0
        }
    );
    assert!(elapsed >= TICK * 3 * 9 / 10, "{elapsed:?}");
    group.reset_totals();
    assert_eq!(group.totals(), Totals::default());

    drop(b);
    assert_eq!(group.len(), 1);
    d.leave_group().unwrap();
    assert!(group.is_empty() && !d.in_group(&group));
    assert_eq!(d.max_to_read(), 16384);
}

#[test]
fn moving_between_groups_and_new_settings() {
    let base = EventBase::new().unwrap();
    let first = RateLimitGroup::new(
        &base,
        &RateLimit::new(1000, 1000, 1000, 1000, None).unwrap(),
    )
    .unwrap();
    let second = RateLimitGroup::new(
        &base,
        &RateLimit::new(3000, 3000, 3000, 3000, None).unwrap(),
    )
    .unwrap();
    let (mut b, _peer) = socket(&base);
    b.join_group(&first).unwrap();
    assert_eq!(b.max_to_read(), 1000);
    b.join_group(&second).unwrap();
    assert_eq!((first.len(), second.len()), (0, 1));
    assert_eq!(b.max_to_read(), 3000);
    second
        .set_rate_limit(&RateLimit::new(500, 500, 500, 500, None).unwrap())
        .unwrap();
    second.set_min_share(10).unwrap();
    assert_eq!(b.max_to_read(), 500); // tokens clamped to the new burst
}

#[test]
fn single_read_and_write_caps() {
    let base = EventBase::new().unwrap();
    let reads = RefCell::new(Vec::new());
    let (mut reader, mut peer) = socket(&base);
    assert_eq!(
        (reader.max_single_read(), reader.max_single_write()),
        (16384, 16384)
    );
    reader.set_max_single_read(4096).unwrap();
    reader.set_max_single_write(1024).unwrap();
    assert_eq!((reader.max_to_read(), reader.max_to_write()), (4096, 1024));
    reader.on_read(|b| {
        let mut reads = reads.borrow_mut();
        reads.push(b.read_to_vec().len());
        if reads.iter().sum::<usize>() >= 20000 {
            base.loopbreak().unwrap();
        }
    });
    reader.enable(Events::READ).unwrap();
    peer.write_all(&[5; 20000]).unwrap();
    run_until(&base);
    assert_eq!(reads.borrow().iter().sum::<usize>(), 20000);
    assert!(reads.borrow().iter().all(|&n| n <= 4096));
    reader.set_max_single_read(0).unwrap(); // back to the default
    assert_eq!(reader.max_single_read(), 16384);
}

#[test]
fn settings_are_checked() {
    for args in [(0, 1, 1, 1), (1, 1, 1, RATE_LIMIT_MAX + 1)] {
        assert!(matches!(
            RateLimit::new(args.0, args.1, args.2, args.3, None),
            Err(Error::Invalid(_))
        ));
    }
    assert!(matches!(
        RateLimit::new(1, 1, 1, 1, Some(Duration::ZERO)),
        Err(Error::Invalid(_))
    ));
    let limit = RateLimit::new(1, 2, 3, 4, None).unwrap();
    let copy = limit.clone();
    assert_eq!(
        (copy.read(), copy.write(), copy.tick()),
        ((1, 2), (3, 4), Duration::from_secs(1))
    );
    assert_eq!(copy.as_ptr(), limit.as_ptr());
}

/// The types' thread-safety, as documented.
#[test]
fn rate_limits_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RateLimit>();
}
