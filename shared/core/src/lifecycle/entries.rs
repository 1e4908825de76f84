//! The `imageDetails` entries of `describe-images` output, cut from a stream a chunk at a time, so that each is
//! parsed by serde_json from a slice (several times faster than its byte-at-a-time reader) while the file is
//! never held whole.
//!
//! Only the plain shape is read here: one object whose `imageDetails` is an array of values, beside any other
//! fields. Anything else is [`Cut::Declined`], and the caller reads the text the general way, which also words
//! its errors. Cutting never decides what an entry holds: each piece is parsed in full by serde_json, and a piece
//! that isn't exactly one value is declined.

use std::io::{self, Read};
use std::ops::Range;

/// How much is read at a time.
const CHUNK: u64 = 256 * 1024;

/// What cutting came to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Cut {
    /// Every entry was handed over.
    Done,
    /// Not the plain shape, or an entry was refused: read the text the general way.
    Declined,
}

/// Hands each `imageDetails` entry's text to `entry`, in order; `entry` answers false to decline.
pub(super) fn each_entry(reader: impl Read, entry: impl FnMut(&[u8]) -> bool) -> io::Result<Cut> {
    each_entry_in_chunks(reader, CHUNK, entry)
}

/// [`each_entry`], reading `chunk` bytes at a time.
fn each_entry_in_chunks(reader: impl Read, chunk: u64, mut entry: impl FnMut(&[u8]) -> bool) -> io::Result<Cut> {
    let mut text = Text { reader, chunk, buffer: Vec::new(), at: 0, ended: false };
    if text.next_byte()? != Some(b'{') {
        return Ok(Cut::Declined);
    }
    text.at += 1;
    let mut details_seen = false;
    loop {
        let Some(key) = text.value()? else { return Ok(Cut::Declined) };
        let Ok(key) = serde_json::from_slice::<std::borrow::Cow<str>>(&text.buffer[key]) else {
            return Ok(Cut::Declined);
        };
        if !text.take(b':')? {
            return Ok(Cut::Declined);
        }
        if key == "imageDetails" {
            if details_seen || !text.take(b'[')? {
                return Ok(Cut::Declined);
            }
            details_seen = true;
            if !text.take(b']')? && !text.each_element(&mut entry)? {
                return Ok(Cut::Declined);
            }
        } else {
            let Some(value) = text.value()? else { return Ok(Cut::Declined) };
            if serde_json::from_slice::<serde::de::IgnoredAny>(&text.buffer[value]).is_err() {
                return Ok(Cut::Declined);
            }
        }
        if text.take(b'}')? {
            break;
        }
        if !text.take(b',')? {
            return Ok(Cut::Declined);
        }
    }
    let finished = details_seen && text.next_byte()?.is_none();
    Ok(if finished { Cut::Done } else { Cut::Declined })
}

/// The text read so far: `buffer[at..]` is not yet consumed.
struct Text<R> {
    reader: R,
    chunk: u64,
    buffer: Vec<u8>,
    at: usize,
    ended: bool,
}

impl<R: Read> Text<R> {
    /// Reads another chunk after what is not yet consumed; false at the end of the text. A value longer than a
    /// chunk is scanned again from its start after each read, so each read takes at least as much as is pending:
    /// a long value costs a few reads and scans, not one a chunk.
    fn fill(&mut self) -> io::Result<bool> {
        if self.ended {
            return Ok(false);
        }
        self.buffer.drain(..self.at);
        self.at = 0;
        let more = self.chunk.max(self.buffer.len() as u64);
        let read = (&mut self.reader).take(more).read_to_end(&mut self.buffer)?;
        self.ended = read == 0;
        Ok(!self.ended)
    }

    /// The next byte that isn't JSON whitespace (not consumed), or none at the end of the text.
    fn next_byte(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.buffer[self.at..].iter().position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r')) {
                Some(skipped) => {
                    self.at += skipped;
                    return Ok(Some(self.buffer[self.at]));
                }
                None => {
                    self.at = self.buffer.len();
                    if !self.fill()? {
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// Consumes `byte` if it comes next.
    fn take(&mut self, byte: u8) -> io::Result<bool> {
        let next = self.next_byte()? == Some(byte);
        self.at += usize::from(next);
        Ok(next)
    }

    /// The next value's place in the buffer (consumed), reading as far as it goes; none if the text ends first
    /// or no value starts here.
    fn value(&mut self) -> io::Result<Option<Range<usize>>> {
        match self.next_byte()? {
            None | Some(b',' | b':' | b']' | b'}') => return Ok(None),
            Some(_) => {}
        }
        loop {
            if let Some(length) = value_length(&self.buffer[self.at..]) {
                let start = self.at;
                self.at += length;
                return Ok(Some(start..self.at));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Hands over the elements of an array whose `[` is consumed and which isn't empty, through its `]`.
    fn each_element(&mut self, entry: &mut impl FnMut(&[u8]) -> bool) -> io::Result<bool> {
        loop {
            let Some(element) = self.value()? else { return Ok(false) };
            if !entry(&self.buffer[element]) {
                return Ok(false);
            }
            if self.take(b']')? {
                return Ok(true);
            }
            if !self.take(b',')? {
                return Ok(false);
            }
        }
    }
}

/// The length of the value `text` starts with, if `text` holds all of it (a number, `true`, `false` or `null` ends
/// where a comma, bracket or whitespace follows it). A piece cut short or too long fails to parse later, so this
/// only has to be right for valid JSON: strings are skipped whole (escapes included), and brackets outside them
/// are counted.
fn value_length(text: &[u8]) -> Option<usize> {
    match text.first()? {
        b'"' => string_length(text),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = 0;
            while i < text.len() {
                match text[i] {
                    b'"' => {
                        i += string_length(&text[i..])?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            None
        }
        _ => text.iter().position(|b| matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')),
    }
}

/// The length of the string `text` starts with (its quotes included), if `text` holds all of it.
fn string_length(text: &[u8]) -> Option<usize> {
    let mut i = 1;
    loop {
        i += memchr::memchr2(b'"', b'\\', &text[i..])?;
        match text[i] {
            b'"' => return Some(i + 1),
            _ => i += 2,
        }
        if i >= text.len() {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The entries handed over, read `chunk` bytes at a time, and how cutting ended.
    fn cut(text: &str, chunk: u64) -> (Vec<String>, Cut) {
        let mut pieces = Vec::new();
        let cut = each_entry_in_chunks(text.as_bytes(), chunk, |piece| {
            pieces.push(String::from_utf8_lossy(piece).into_owned());
            true
        });
        (pieces, cut.expect("read from memory"))
    }

    #[test]
    fn entries_are_cut_whole_wherever_the_chunks_end() {
        let text = concat!(
            r#" { "next\"Token" : {"a": [1, "]}\\", null]} ,"imageDetails":[ {"imageDigest": "sha256:a",
            "imageTags": ["v1]", "{x\""], "imageScanFindingsSummary": {"findingSeverityCounts": {"HIGH": 1}}},
            {"imageDigest":"b\u0022}","imagePushedAt":1.5e9} ] , "count": -12.5e-3, "on": true}"#,
            "\r\n"
        );
        let expected = [
            r#"{"imageDigest": "sha256:a",
            "imageTags": ["v1]", "{x\""], "imageScanFindingsSummary": {"findingSeverityCounts": {"HIGH": 1}}}"#,
            r#"{"imageDigest":"b\u0022}","imagePushedAt":1.5e9}"#,
        ];
        for chunk in (1..=12).chain([CHUNK]) {
            assert_eq!(cut(text, chunk), (expected.map(String::from).to_vec(), Cut::Done), "chunk {chunk}");
        }
        assert_eq!(cut(r#"{"imageDetails": []}"#, 1), (vec![], Cut::Done));
    }

    #[test]
    fn any_other_shape_is_declined() {
        let declined = [
            "",
            "[]",
            "{}",
            r#"{"imageDetails": null}"#,
            r#"{"imageDetails": {}}"#,
            r#"{"nextToken": "x"}"#,
            r#"{"imageDetails": [], "imageDetails": []}"#,
            r#"{"imageDetails": [{}, ]}"#,
            r#"{"imageDetails": [{} {}]}"#,
            r#"{"imageDetails": [{}]"#,
            r#"{"imageDetails": [{}]} x"#,
            r#"{"imageDetails": [{}]}}"#,
            r#"{"imageDetails": [{"a": "unterminated}]}"#,
            r#"{"imageDetails": [{}], "bad": [1,]}"#,
            r#"{"imageDetails": [{}], 7: 1}"#,
            r#"{"imageDetails" [{}]}"#,
            r#"{"imageDetails": [{}],}"#,
        ];
        for text in declined {
            for chunk in [1, 3, CHUNK] {
                assert_eq!(cut(text, chunk).1, Cut::Declined, "{text:?} in chunks of {chunk}");
            }
        }
    }

    /// A reader that counts how often it is read.
    struct Counted<'a> {
        text: &'a [u8],
        reads: usize,
    }

    impl Read for Counted<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.reads += 1;
            self.text.read(out)
        }
    }

    #[test]
    fn a_value_longer_than_a_chunk_costs_a_few_reads_not_one_a_chunk() {
        let text = format!(r#"{{"nextToken": "{}", "imageDetails": [{{}}]}}"#, "x".repeat(16 * 1024));
        let mut reader = Counted { text: text.as_bytes(), reads: 0 };
        let cut = each_entry_in_chunks(&mut reader, 1, |piece| piece == b"{}");
        assert_eq!(cut.expect("read from memory"), Cut::Done);
        assert!(reader.reads < 100, "{} reads", reader.reads);
    }

    #[test]
    fn an_entry_refused_declines_the_rest() {
        let mut seen = 0;
        let cut = each_entry(r#"{"imageDetails": [1, 2, 3]}"#.as_bytes(), |_| {
            seen += 1;
            seen < 2
        });
        assert_eq!((cut.expect("read from memory"), seen), (Cut::Declined, 2));
    }
}
