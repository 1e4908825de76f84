//! A preview's JSON, written straight to a stream: the bytes `serde_json::to_writer_pretty` writes for a
//! [`super::PreviewOutput`], made faster. A preview of 100,000 images is about 29 MB of JSON; serde's general path
//! escapes every key and formats every time through `fmt`, where here the keys are constant text and digests, tags
//! and times are copied as they are when they need no escaping (docs/benchmarks.md, "The lifecycle preview as users
//! run it"). The tests hold the two to the same bytes.

use std::io::{self, Write};

use super::images::Image;
use super::preview::{Preview, PreviewResult};

/// How many entries are looked up before they are written. The images acted on are scattered in memory; looking
/// a batch up in a loop of its own lets the processor fetch many at once, where looking each up just before
/// writing it waits for memory twice an entry (measured: writing 100,000 entries took 45 ms that way, 27 ms so).
const LOOKED_UP_AT_ONCE: usize = 1024;

impl Preview {
    /// Writes the preview of `images` as indented JSON: what `serde_json::to_writer_pretty` writes for
    /// [`Preview::output`] (without a final newline), never holding more than a batch of entries.
    pub fn write_json(&self, images: &[Image], out: &mut impl Write) -> io::Result<()> {
        out.write_all(b"{\n  \"previewResults\": [")?;
        let mut batch = Vec::with_capacity(LOOKED_UP_AT_ONCE);
        for (b, acted) in self.acted.chunks(LOOKED_UP_AT_ONCE).enumerate() {
            batch.clear();
            batch.extend(acted.iter().map(|acted| acted.result(images)));
            for (i, result) in batch.iter().enumerate() {
                out.write_all(if b == 0 && i == 0 { b"\n    " } else { b",\n    " })?;
                write_result(out, result)?;
            }
        }
        out.write_all(if self.acted.is_empty() { b"]" } else { b"\n  ]" })?;
        let summary = self.summary();
        write!(out, ",\n  \"summary\": {{\n    \"expiringImageTotalCount\": {}", summary.expiring_image_total_count)?;
        if summary.transitioning_image_total_count > 0 {
            let count = summary.transitioning_image_total_count;
            write!(out, ",\n    \"transitioningImageTotalCount\": {count}")?;
        }
        out.write_all(b"\n  },\n  \"rules\": [")?;
        for (i, rule) in self.rules.iter().enumerate() {
            out.write_all(if i == 0 { b"\n    " } else { b",\n    " })?;
            write!(
                out,
                "{{\n      \"rulePriority\": {},\n      \"matched\": {},\n      \"actedOn\": {}\n    }}",
                rule.rule_priority, rule.matched, rule.acted_on
            )?;
        }
        out.write_all(if self.rules.is_empty() { b"]\n}" } else { b"\n  ]\n}" })
    }
}

/// One entry of `previewResults`, indented as the fourth level's first line.
fn write_result(out: &mut impl Write, result: &PreviewResult) -> io::Result<()> {
    out.write_all(b"{\n      \"imageDigest\": ")?;
    write_string(out, result.image_digest)?;
    out.write_all(b",\n      \"imageTags\": [")?;
    for (i, tag) in result.image_tags.iter().enumerate() {
        out.write_all(if i == 0 { b"\n        " } else { b",\n        " })?;
        write_string(out, tag)?;
    }
    out.write_all(if result.image_tags.is_empty() { b"]" } else { b"\n      ]" })?;
    out.write_all(b",\n      \"imagePushedAt\": \"")?;
    out.write_all(result.image_pushed_at.text().as_bytes())?;
    out.write_all(b"\",\n      \"action\": {\n        \"type\": ")?;
    write_string(out, result.action.kind)?;
    if let Some(class) = result.action.target_storage_class {
        out.write_all(b",\n        \"targetStorageClass\": ")?;
        write_string(out, class)?;
    }
    write!(out, "\n      }},\n      \"appliedRulePriority\": {}\n    }}", result.applied_rule_priority)
}

/// A JSON string: copied between quotes when nothing in it needs escaping (no quote, backslash or control
/// character, the only bytes JSON escapes), otherwise escaped by serde_json.
fn write_string(out: &mut impl Write, text: &str) -> io::Result<()> {
    let plain = text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if !plain {
        return serde_json::to_writer(out, text).map_err(io::Error::from);
    }
    out.write_all(b"\"")?;
    out.write_all(text.as_bytes())?;
    out.write_all(b"\"")
}

#[cfg(test)]
mod tests {
    use super::super::model::{RuleAction, StorageClass};
    use super::super::preview::{Acted, RuleSummary};
    use super::*;

    fn written(preview: &Preview, images: &[Image]) -> String {
        let mut out = Vec::new();
        preview.write_json(images, &mut out).expect("written to memory");
        String::from_utf8(out).expect("JSON is text")
    }

    #[test]
    fn the_json_is_serde_jsons_to_the_byte() {
        let tags = ["v1", "quote\"back\\slash", "tab\tnew\nline", "é ünicode \u{7f}", ""].map(String::from);
        let times = [0, -1, 1_767_323_045_123, 253_402_300_799_999, 253_402_300_800_000, -62_167_219_200_001, i64::MAX];
        let images: Vec<Image> = times
            .iter()
            .enumerate()
            .map(|(i, &ms)| Image {
                digest: if i == 1 { "sha256:\"odd\u{1}\"" } else { "sha256:abc" }.to_string(),
                tags: tags[..i % 6].to_vec(),
                pushed_at_ms: ms,
                last_pulled_ms: None,
                archived_at_ms: None,
                storage_class: StorageClass::Standard,
            })
            .collect();
        let acted = |image: usize, action| Acted { image, rule_priority: 3 + image as u64, action };
        let rules = vec![
            RuleSummary { rule_priority: 1, matched: 10, acted_on: 3 },
            RuleSummary { rule_priority: 20, matched: 0, acted_on: 0 },
        ];
        let previews = [
            Preview {
                acted: (0..times.len())
                    .map(|i| acted(i, if i % 2 == 0 { RuleAction::Expire } else { RuleAction::Transition }))
                    .collect(),
                rules: rules.clone(),
            },
            Preview { acted: vec![acted(2, RuleAction::Expire), acted(0, RuleAction::Expire)], rules: rules.clone() },
            Preview { acted: (0..2_500).map(|i| acted(i % times.len(), RuleAction::Expire)).collect(), rules },
            Preview { acted: Vec::new(), rules: Vec::new() },
        ];
        for preview in previews {
            let expected = serde_json::to_string_pretty(&preview.output(&images)).expect("serializable");
            assert_eq!(written(&preview, &images), expected);
        }
    }
}
