//! Base64 for OCSP GET paths: standard and URL-safe alphabets, padding optional.

/// Decode `text` (standard or URL-safe alphabet, `=` padding optional); `None` if invalid.
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let body = match text.iter().position(|&c| c == b'=') {
        Some(p) => {
            let pad = &text[p..];
            if pad.len() > 2 || pad.iter().any(|&c| c != b'=') || !text.len().is_multiple_of(4) {
                return None;
            }
            &text[..p]
        }
        None => text,
    };
    if body.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in body {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero (canonical encoding).
    (acc == 0).then_some(out)
}

/// Encode `data` in the standard alphabet with padding.
pub(crate) fn encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_alphabets() {
        for data in [&b""[..], b"f", b"fo", b"foo", b"foob", b"\xfb\xff\xfe"] {
            assert_eq!(decode(encode(data).as_bytes()).as_deref(), Some(data));
        }
        assert_eq!(decode(b"-_-_").unwrap(), decode(b"+/+/").unwrap());
        assert_eq!(decode(b"Zm8").unwrap(), b"fo");
        assert!(decode(b"Zm8=x").is_none());
        assert!(decode(b"Z").is_none());
        assert!(decode(b"Zm9=").is_none());
        assert!(decode(b"Zm 8").is_none());
    }
}
