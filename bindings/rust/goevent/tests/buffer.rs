//! EvBuffer operations.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

use goevent::{Eol, Error, EvBuffer};

#[test]
fn add_remove_drain_copy() {
    let mut buf = EvBuffer::new().unwrap();
    assert!(buf.is_empty());
    buf.add(b"hello ").unwrap();
    buf.add(b"world").unwrap();
    buf.prepend(b">> ").unwrap();
    assert_eq!(buf.len(), 14);
    assert_eq!(buf.to_vec(), b">> hello world");

    let mut first = [0u8; 3];
    assert_eq!(buf.copy_out(&mut first).unwrap(), 3);
    assert_eq!(&first, b">> ");
    assert_eq!(buf.len(), 14, "copy_out leaves the data");

    let mut tail = [0u8; 5];
    assert_eq!(buf.copy_out_from(9, &mut tail).unwrap(), 5);
    assert_eq!(&tail, b"world");
    assert!(matches!(
        buf.copy_out_from(99, &mut tail),
        Err(Error::Invalid(_))
    ));

    buf.drain(3).unwrap();
    let mut word = [0u8; 6];
    assert_eq!(buf.remove(&mut word).unwrap(), 6);
    assert_eq!(&word, b"hello ");
    let mut rest = [0u8; 64];
    assert_eq!(buf.remove(&mut rest).unwrap(), 5);
    assert_eq!(&rest[..5], b"world");
    assert_eq!(buf.remove(&mut rest).unwrap(), 0);
}

#[test]
fn large_round_trip_through_io_traits() {
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut buf = EvBuffer::new().unwrap();
    for piece in data.chunks(999) {
        buf.write_all(piece).unwrap();
    }
    assert_eq!(buf.len(), data.len());
    let mut out = Vec::new();
    buf.read_to_end(&mut out).unwrap();
    assert_eq!(out, data);
    assert!(buf.is_empty());
}

#[test]
fn move_between_buffers() {
    let mut a = EvBuffer::with_data(b"0123456789").unwrap();
    let mut b = EvBuffer::with_data(b"head:").unwrap();
    assert_eq!(a.move_to(&mut b, 4).unwrap(), 4);
    assert_eq!(b.to_vec(), b"head:0123");
    b.add_buffer(&mut a).unwrap();
    assert_eq!(b.to_vec(), b"head:0123456789");
    assert!(a.is_empty());
    a.add(b"front ").unwrap();
    b.prepend_buffer(&mut a).unwrap();
    assert_eq!(b.to_vec(), b"front head:0123456789");
}

/// (style, input, lines read, bytes left)
type LineCase = (Eol, &'static [u8], &'static [&'static [u8]], &'static [u8]);

#[test]
fn read_line_styles() {
    let cases: [LineCase; 5] = [
        (
            Eol::Any,
            b"a\r\n\r\nb\nc\rd\n\n",
            &[b"a", b"b", b"c", b"d"],
            b"",
        ),
        (
            Eol::Crlf,
            b"a\r\nb\nc\r\nrest",
            &[b"a", b"b", b"c"],
            b"rest",
        ),
        (Eol::CrlfStrict, b"a\nb\r\nc\n", &[b"a\nb"], b"c\n"),
        (Eol::Lf, b"a\r\nb\nc", &[b"a\r", b"b"], b"c"),
        (Eol::Nul, b"a\0\0b\0c", &[b"a", b"", b"b"], b"c"),
    ];
    for (eol, input, lines, rest) in cases {
        let mut buf = EvBuffer::with_data(input).unwrap();
        let mut got = Vec::new();
        while let Some(line) = buf.read_line(eol) {
            got.push(line);
        }
        assert_eq!(got, lines, "{eol:?}");
        assert_eq!(buf.to_vec(), rest, "{eol:?}");
    }
}

#[test]
fn search_agrees_with_a_naive_scan() {
    let data: Vec<u8> = (0..4000u32)
        .map(|i| b"abc"[(i * i % 7 % 3) as usize])
        .collect();
    let mut buf = EvBuffer::new().unwrap();
    for piece in data.chunks(13) {
        buf.add(piece).unwrap(); // matches straddle the library's chunks
    }
    let find = |needle: &[u8], start: usize, end: usize| {
        (start..end.saturating_sub(needle.len()) + 1)
            .find(|&i| i + needle.len() <= end && &data[i..i + needle.len()] == needle)
    };
    let needles: [&[u8]; 5] = [b"a", b"abc", b"cab", b"bbbb", b"ccca"];
    for needle in needles {
        for start in (0..data.len()).step_by(397) {
            assert_eq!(buf.search(needle, start), find(needle, start, data.len()));
            let end = (start + 50).min(data.len());
            assert_eq!(
                buf.search_range(needle, start..end),
                find(needle, start, end)
            );
        }
    }
    assert_eq!(buf.search(b"zzz", 0), None);
    assert_eq!(buf.search(b"a", data.len() + 1), None);
}

#[test]
fn search_eol_reports_offset_and_length() {
    let buf = EvBuffer::with_data(b"key: value\r\nnext\n").unwrap();
    assert_eq!(buf.search_eol(0, Eol::Crlf), Some((10, 2)));
    assert_eq!(
        buf.search_eol(11, Eol::Crlf),
        Some((11, 1)),
        "a bare LF counts"
    );
    assert_eq!(buf.search_eol(12, Eol::Crlf), Some((16, 1)));
    assert_eq!(buf.search_eol(0, Eol::Nul), None);
}

#[test]
fn pullup_and_peek_views() {
    let mut buf = EvBuffer::new().unwrap();
    let parts: Vec<Vec<u8>> = (1..=4u8).map(|i| vec![i; 3000]).collect();
    for part in &parts {
        buf.add(part).unwrap();
    }
    let chunks = buf.peek(None);
    assert_eq!(chunks.concat(), parts.concat());
    let first: Vec<u8> = buf.peek(Some(10)).concat();
    assert_eq!(first, &parts[0][..10]);

    let whole = buf.pullup(None).unwrap().to_vec();
    assert_eq!(whole, parts.concat());
    assert_eq!(buf.contiguous_space(), 12000, "pullup made it contiguous");
    assert_eq!(buf.pullup(Some(5)).unwrap(), &[1u8; 5]);
    assert!(matches!(buf.pullup(Some(12001)), Err(Error::Invalid(_))));
    assert_eq!(buf.len(), 12000);
}

#[test]
fn append_in_place() {
    let mut buf = EvBuffer::with_data(b"<").unwrap();
    let n = buf
        .append_with(100, |space| {
            for (i, b) in space.iter_mut().take(26).enumerate() {
                b.write(b'a' + i as u8);
            }
            26
        })
        .unwrap();
    assert_eq!(n, 26);
    buf.add(b">").unwrap();
    assert_eq!(buf.to_vec(), b"<abcdefghijklmnopqrstuvwxyz>");
    let err = buf.append_with(4, |space| space.len() + 1).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)));
}

#[test]
fn freeze_blocks_changes() {
    let mut buf = EvBuffer::with_data(b"data").unwrap();
    buf.freeze(false).unwrap();
    assert!(buf.add(b"more").is_err());
    buf.unfreeze(false).unwrap();
    buf.add(b"more").unwrap();
    buf.freeze(true).unwrap();
    assert!(buf.drain(1).is_err());
    buf.unfreeze(true).unwrap();
    assert_eq!(buf.to_vec(), b"datamore");
}

#[test]
fn fd_io_and_errno() {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let mut out = EvBuffer::with_data(&[b'x'; 5000]).unwrap();
    assert_eq!(out.write_to(&a, Some(1000)).unwrap(), 1000);
    assert_eq!(out.write_to(&a, None).unwrap(), 4000);
    assert!(out.is_empty());

    let mut inp = EvBuffer::new().unwrap();
    let mut got = 0;
    while got < 5000 {
        got += inp.read_from(&b, None).unwrap();
    }
    assert_eq!(inp.to_vec(), vec![b'x'; 5000]);
    let err = inp.read_from(&b, None).unwrap_err();
    assert_eq!(err.errno(), Some(11), "EAGAIN: {err}");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::WouldBlock);

    drop(a);
    assert_eq!(inp.read_from(&b, None).unwrap(), 0, "end of file");
}

#[test]
fn buffer_is_send() {
    let buf = EvBuffer::with_data(b"across threads").unwrap();
    let back = std::thread::spawn(move || {
        let mut buf = buf;
        buf.add(b"!").unwrap();
        buf
    })
    .join()
    .unwrap();
    assert_eq!(back.to_vec(), b"across threads!");
}
