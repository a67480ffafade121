//! PEM files with any number of blocks (RFC 7468), as OpenSSL writes them: a key after its
//! `EC PARAMETERS`, a certificate after its key, CRLF line ends.

use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// One decoded PEM block.
pub struct Block {
    /// The label between `-----BEGIN ` and `-----`.
    pub label: String,
    /// The decoded bytes (zeroized on drop: they may be a private key).
    pub der: Zeroizing<Vec<u8>>,
}

/// Whether `data` looks like PEM (possibly after leading whitespace).
pub fn is_pem(data: &[u8]) -> bool {
    std::str::from_utf8(data).is_ok_and(|t| t.trim_start().starts_with("-----BEGIN "))
}

/// Every block in `text`, in order. Text between blocks is ignored, as OpenSSL does.
pub fn blocks(text: &str, what: &'static str) -> Result<Vec<Block>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let label_end = after
            .find("-----")
            .ok_or_else(|| Error::decode(what, "malformed PEM: unterminated BEGIN line"))?;
        let label = &after[..label_end];
        let end_marker = format!("-----END {label}-----");
        let end = rest[start..].find(&end_marker).ok_or_else(|| {
            Error::decode(what, format!("malformed PEM: no END line for {label}"))
        })?;
        let block = &rest[start..start + end + end_marker.len()];
        if block.contains("Proc-Type:") || block.contains("DEK-Info:") {
            return Err(Error::Unsupported(
                "legacy OpenSSL-encrypted PEM (Proc-Type/DEK-Info headers); convert it with \
                 `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                    .into(),
            ));
        }
        let (label, der) = der::pem::decode_vec(block.as_bytes())
            .map_err(|e| Error::decode(what, format!("malformed PEM {label} block: {e}")))?;
        out.push(Block {
            label: label.to_string(),
            der: Zeroizing::new(der),
        });
        rest = &rest[start + end + end_marker.len()..];
    }
    if out.is_empty() {
        return Err(Error::decode(what, "no PEM block found"));
    }
    Ok(out)
}

/// The first block whose label is one of `labels`, or an error naming what was found.
pub fn first_of(
    text: &str,
    labels: &[&str],
    what: &'static str,
    expected: &'static str,
) -> Result<Block> {
    let all = blocks(text, what)?;
    let found = all.first().map(|b| b.label.clone()).unwrap_or_default();
    all.into_iter()
        .find(|b| labels.contains(&b.label.as_str()))
        .ok_or(Error::WrongPemLabel { expected, found })
}

/// Encode one block.
pub fn encode(label: &str, der: &[u8]) -> String {
    der::pem::encode_string(label, der::pem::LineEnding::LF, der).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_blocks_and_crlf() {
        let a = encode("EC PARAMETERS", &[6, 1, 0]);
        let b = encode("PRIVATE KEY", &[1, 2, 3]).replace('\n', "\r\n");
        let text = format!("junk\n{a}between\n{b}");
        let all = blocks(&text, "x").unwrap();
        assert_eq!(all.len(), 2);
        let k = first_of(&text, &["PRIVATE KEY"], "x", "a key").unwrap();
        assert_eq!(&k.der[..], &[1, 2, 3]);
        assert!(matches!(
            first_of(&a, &["PRIVATE KEY"], "x", "a key"),
            Err(Error::WrongPemLabel { .. })
        ));
        assert!(blocks("-----BEGIN X-----\nAAAA\n", "x").is_err());
        assert!(blocks("nothing", "x").is_err());
    }
}
