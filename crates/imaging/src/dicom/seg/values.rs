//! DICOM values the SEG writer needs: sequences and coded concepts, UIDs, DA/TM from a Unix
//! time, and decimal strings (DS) that fit their 16 characters.

use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::tags;
use dicom_object::InMemDicomObject;
use sha2::{Digest, Sha256};

use super::SegOrigin;
use crate::dicom::reference::DicomReference;

pub(super) fn sequence(tag: Tag, items: Vec<InMemDicomObject>) -> DataElement<InMemDicomObject> {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

/// A coded concept (Code Value, Coding Scheme Designator, Code Meaning).
pub(super) fn code(value: &str, scheme: &str, meaning: &str) -> InMemDicomObject {
    InMemDicomObject::from_element_iter([
        DataElement::new(tags::CODE_VALUE, VR::SH, value),
        DataElement::new(tags::CODING_SCHEME_DESIGNATOR, VR::SH, scheme),
        DataElement::new(tags::CODE_MEANING, VR::LO, meaning),
    ])
}

/// A 2.25 UID (PS3.5 B.2: a UUID as a decimal integer) from a digest of the source series, the
/// mask, the time and the UID's purpose: unique for a different mask or second, the same for
/// the same export.
pub(super) fn derived_uid(
    reference: &DicomReference,
    labels: &[u8],
    origin: &SegOrigin,
    purpose: &str,
) -> String {
    let mut hash = Sha256::new();
    hash.update(reference.series_uid.as_bytes());
    hash.update(reference.study.study_uid.as_bytes());
    hash.update(origin.unix_seconds.to_le_bytes());
    hash.update(labels);
    hash.update(purpose.as_bytes());
    let digest = hash.finalize();
    let mut bytes: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    // Marked as a version-4 (random), variant-1 UUID, as the standard's 2.25 root expects.
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    format!("2.25.{}", u128::from_be_bytes(bytes))
}

/// DICOM DA and TM (UTC) of a Unix time.
pub(super) fn utc_date_time(unix_seconds: u64) -> (String, String) {
    let days = (unix_seconds / 86_400) as i64;
    let secs = unix_seconds % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        format!("{year:04}{month:02}{day:02}"),
        format!("{:02}{:02}{:02}", secs / 3600, secs / 60 % 60, secs % 60),
    )
}

/// A decimal string (DS) of at most 16 characters: the shortest that reads back as `x` when it
/// fits, as the source's own values do.
pub(super) fn ds(x: f64) -> String {
    let shortest = format!("{x}");
    if shortest.len() <= 16 {
        return shortest;
    }
    (0..=10)
        .rev()
        .map(|p| format!("{x:.p$}"))
        .find(|s| s.len() <= 16)
        .unwrap_or_else(|| format!("{x:.3e}"))
}

pub(super) fn strs(values: &[f64]) -> PrimitiveValue {
    PrimitiveValue::Strs(values.iter().map(|&v| ds(v)).collect())
}

/// At most `max` characters (LO holds 64), cut on a character boundary.
pub(super) fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_are_utc_civil() {
        assert_eq!(utc_date_time(0), ("19700101".into(), "000000".into()));
        // 2026-12-03 18:20:54 UTC.
        assert_eq!(
            utc_date_time(1_796_322_054),
            ("20261203".into(), "182054".into())
        );
        // A leap day.
        assert_eq!(utc_date_time(951_782_400).0, "20000229");
    }

    #[test]
    fn decimal_strings_fit_sixteen_characters() {
        assert_eq!(ds(-119.5), "-119.5");
        assert_eq!(ds(0.1), "0.1");
        let long = ds(-123.456_789_012_345_67);
        assert!(
            long.len() <= 16 && (long.parse::<f64>().unwrap() + 123.456_789).abs() < 1e-6,
            "{long}"
        );
    }
}
