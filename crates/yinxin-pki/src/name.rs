//! Distinguished names from text, in RFC 4514 or OpenSSL spelling.

use std::str::FromStr;

use x509_cert::name::Name;

use crate::{Error, Result};

/// Parse a subject name: RFC 4514 (`CN=张三,O=某某公司,C=CN`, most specific first) or the
/// OpenSSL `-subj` form (`/C=CN/O=某某公司/CN=张三`, in ASN.1 order). Non-ASCII text is
/// encoded as UTF8String, country codes as PrintableString.
pub fn parse(text: &str) -> Result<Name> {
    let trimmed = text.trim();
    let rfc4514 = match trimmed.strip_prefix('/') {
        Some(rest) => {
            let parts: Vec<&str> = rest.split('/').filter(|p| !p.is_empty()).collect();
            if parts.iter().any(|p| !p.contains('=')) {
                return Err(Error::Name {
                    name: text.to_string(),
                    reason: "each /-separated part must be TYPE=value".into(),
                });
            }
            parts
                .iter()
                .rev()
                .map(|p| p.replace(',', "\\,"))
                .collect::<Vec<_>>()
                .join(",")
        }
        None => trimmed.to_string(),
    };
    if rfc4514.is_empty() {
        return Err(Error::Name {
            name: text.to_string(),
            reason: "empty".into(),
        });
    }
    Name::from_str(&rfc4514).map_err(|e| Error::Name {
        name: text.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_spellings_give_the_same_name() {
        let a = parse("/C=CN/O=某某建设有限公司/CN=张三").unwrap();
        let b = parse("CN=张三,O=某某建设有限公司,C=CN").unwrap();
        assert_eq!(a, b);
        assert!(parse("").is_err());
        assert!(parse("/C=CN/garbage").is_err());
        assert!(parse("XX=1").is_err());
    }
}
