//! What a support bundle must never contain: PINs, private keys, token secrets, personal data.
//!
//! `yinxin doctor --bundle` sends the report, configuration and recent logs to support. Every
//! text in it goes through [`Redactor::text`], every JSON or TOML document through
//! [`Redactor::json`] or [`Redactor::toml`]. The rules err on the side of removing too much,
//! with two exceptions support needs: hex digests (SHA-256, SM3), certificate serials and
//! fingerprints survive, and so do organisation names (O, OU, C, ST, L).
//!
//! [`Redactor::text`] applies, in this order:
//!
//! 1. the literal secrets given to [`Redactor::with_secret`], wherever they appear;
//! 2. PEM blocks whose label contains `PRIVATE KEY` or `SECRET` → `[REDACTED: private key]`;
//! 3. the password in a URL's user information (`https://user:[REDACTED]@host`);
//! 4. the value after a secret-like key ([`is_secret_key`]) in `key=value`, `key: value`,
//!    JSON `"key": "value"` and command-line `--key value` spellings (the key is kept; an
//!    HTTP authentication scheme such as `Bearer` is kept too); a key at the start of a line
//!    (configuration, HTTP headers) hides the rest of the line, elsewhere the value ends at
//!    white space or `& ; , " ' ) ] } > <`;
//! 5. `Bearer` credentials and JSON Web Tokens anywhere → `[REDACTED]`, `[REDACTED: token]`;
//! 6. the values of personal attributes in X.509 names (see [`X509_ATTRIBUTES`]), in both the
//!    RFC 4514 (`CN=张三,O=…`) and OpenSSL (`/CN=张三/O=…`) spellings; a value ends at the
//!    next unescaped `,` or `+` (RFC 4514), `/` (OpenSSL spelling), line end, `"`, or the next
//!    `key=`; `SN` and `serialNumber` values that are plain hex numbers are kept, as they are
//!    most often device or certificate serials, and so are common names of CAs, OCSP and
//!    timestamp responders and hosts (`CN=yinxin SM2 Root CA`, `CN=yx.example.com`);
//! 7. mainland China resident ID numbers (18 characters, a non-zero first digit, a plausible
//!    birth date in characters 7–14 and a valid ISO 7064 MOD 11-2 check character) →
//!    `[REDACTED: id number]`;
//! 8. mobile numbers (`1[3-9]` and 9 digits, optionally after `86`/`0086`, or spelled
//!    `138-1234-5678`) → `[REDACTED: phone]`;
//! 9. e-mail addresses → `[REDACTED: email]` (but not systemd unit instances such as
//!    `getty@tty1.service`).
//!
//! Rules 7 and 8 look at whole runs of ASCII letters and digits only, so a number inside a
//! longer digit or hex run (a digest, a serial, a base64 line) is never touched, while one
//! next to Chinese text is.

use std::borrow::Cow;
use std::fmt;
use std::sync::LazyLock;

use regex::{Captures, Regex};
use zeroize::Zeroizing;

/// The marker that replaces a secret value.
pub const REDACTED: &str = "[REDACTED]";

/// The marker that replaces a private-key or secret PEM block.
pub const REDACTED_PRIVATE_KEY: &str = "[REDACTED: private key]";

/// X.509 name attributes whose values are personal data, with the marker for each: the
/// short and long names as OpenSSL and RFC 4514 print them, their dotted OIDs, and the
/// GM/T 0015-2012 identity attributes `IdentifyCode` (1.2.156.10260.4.1.1) and
/// `InsuranceNumber` (…4.1.2). The organisation identifiers of GM/T 0015 (…4.1.3–5) are kept,
/// like O, OU, C, ST and L. Matched case-insensitively, except `E`.
pub const X509_ATTRIBUTES: &[(&str, &str)] = &[
    ("CN", "[REDACTED: name]"),
    ("commonName", "[REDACTED: name]"),
    ("2.5.4.3", "[REDACTED: name]"),
    ("SN", "[REDACTED: name]"),
    ("surname", "[REDACTED: name]"),
    ("2.5.4.4", "[REDACTED: name]"),
    ("GN", "[REDACTED: name]"),
    ("givenName", "[REDACTED: name]"),
    ("2.5.4.42", "[REDACTED: name]"),
    ("initials", "[REDACTED: name]"),
    ("2.5.4.43", "[REDACTED: name]"),
    ("pseudonym", "[REDACTED: name]"),
    ("2.5.4.65", "[REDACTED: name]"),
    ("serialNumber", "[REDACTED: id]"),
    ("2.5.4.5", "[REDACTED: id]"),
    ("UID", "[REDACTED: id]"),
    ("userId", "[REDACTED: id]"),
    ("0.9.2342.19200300.100.1.1", "[REDACTED: id]"),
    ("emailAddress", "[REDACTED: email]"),
    ("E", "[REDACTED: email]"),
    ("1.2.840.113549.1.9.1", "[REDACTED: email]"),
    ("1.2.156.10260.4.1.1", "[REDACTED: id]"),
    ("1.2.156.10260.4.1.2", "[REDACTED: id]"),
    ("IdentifyCode", "[REDACTED: id]"),
    ("InsuranceNumber", "[REDACTED: id]"),
];

/// Removes secrets and personal data from text, JSON and TOML.
///
/// ```
/// use yinxin_doctor::redact::Redactor;
/// let r = Redactor::new().with_secret("314159");
/// assert_eq!(r.text("login with 314159 as CN=张三,O=某某公司"),
///            "login with [REDACTED] as CN=[REDACTED: name],O=某某公司");
/// ```
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so that a secret containing another is replaced whole.
    secrets: Vec<Zeroizing<String>>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor with the built-in rules and no literal secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also replace `secret` wherever it appears, inside longer strings too (a PIN from the
    /// environment, the machine identity). Empty or blank values are ignored.
    pub fn with_secret(mut self, secret: &str) -> Self {
        if !secret.trim().is_empty() && !self.secrets.iter().any(|s| s.as_str() == secret) {
            self.secrets.push(Zeroizing::new(secret.to_string()));
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
        self
    }

    /// `input` with every rule of the [module documentation](self) applied.
    pub fn text(&self, input: &str) -> String {
        let s = self.literals(input);
        let s = private_key_blocks(&s);
        let s = URL_PASSWORD.replace_all(&s, |c: &Captures<'_>| format!("{}{REDACTED}@", &c[1]));
        let s = key_values(&s);
        let s = command_line_options(&s);
        let s = BEARER.replace_all(&s, |c: &Captures<'_>| format!("{} {REDACTED}", &c[1]));
        let s = JWT.replace_all(&s, "[REDACTED: token]");
        let s = x509_names(&s);
        let s = alnum_runs(&s);
        let s = replace_bounded(&s, &SPACED_MOBILE, "[REDACTED: phone]");
        EMAIL
            .replace_all(&s, |c: &Captures<'_>| {
                let tld = c[1].to_ascii_lowercase();
                if SYSTEMD_UNIT_TYPES.contains(&tld.as_str()) {
                    c[0].to_string()
                } else {
                    "[REDACTED: email]".to_string()
                }
            })
            .into_owned()
    }

    /// Redacts a JSON document in place: values under secret-like keys ([`is_secret_key`])
    /// become `"[REDACTED]"` (`null` and booleans stay: they hide nothing), every other
    /// string goes through [`Redactor::text`], numbers containing a literal secret are
    /// replaced.
    pub fn json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => *s = self.text(s),
            Value::Number(n) => {
                if self.contains_secret(&n.to_string()) {
                    *value = Value::String(REDACTED.into());
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.json(v)),
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    if !is_secret_key(key) {
                        self.json(v);
                    } else if !matches!(v, Value::Null | Value::Bool(_)) {
                        *v = Value::String(REDACTED.into());
                    }
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// Redacts a TOML document in place, by the rules of [`Redactor::json`] (booleans under
    /// secret-like keys stay).
    pub fn toml(&self, value: &mut toml::Value) {
        use toml::Value;
        match value {
            Value::String(s) => *s = self.text(s),
            Value::Integer(_) | Value::Float(_) | Value::Datetime(_) => {
                if self.contains_secret(&value.to_string()) {
                    *value = Value::String(REDACTED.into());
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.toml(v)),
            Value::Table(table) => {
                for (key, v) in table.iter_mut() {
                    if !is_secret_key(key) {
                        self.toml(v);
                    } else if !v.is_bool() {
                        *v = Value::String(REDACTED.into());
                    }
                }
            }
            Value::Boolean(_) => {}
        }
    }

    fn contains_secret(&self, s: &str) -> bool {
        self.secrets
            .iter()
            .any(|secret| s.contains(secret.as_str()))
    }

    /// One left-to-right pass, so a replacement is never searched again.
    fn literals<'a>(&self, input: &'a str) -> Cow<'a, str> {
        if !self.contains_secret(input) {
            return Cow::Borrowed(input);
        }
        let mut out = String::with_capacity(input.len());
        let mut rest = input;
        while let Some(c) = rest.chars().next() {
            match self.secrets.iter().find(|s| rest.starts_with(s.as_str())) {
                Some(secret) => {
                    out.push_str(REDACTED);
                    rest = &rest[secret.len()..];
                }
                None => {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        Cow::Owned(out)
    }
}

/// Whether a value stored under `name` is secret: the name contains (ignoring case and
/// `_ - .` separators) `password`, `passwd`, `passphrase`, `secret`, `private`,
/// `authorization`, `cookie`, `apikey`, `accesstoken`, `refreshtoken`, `authtoken`,
/// `sessionid`, `credential`, `bearer`, `密码`, `口令` or `私钥`; or one of its words
/// (split at separators and camel case) begins or ends with `pin` (`pin`, `PIN1`, `userPin`,
/// `sopin`, but not `ping`, `pinned`, `mapping`) or with `share` (`share`, `keyshare`, not
/// `shared`). `token` alone is not secret (`token=alice` names a token file).
///
/// Names that describe a secret rather than hold it are not secret either: those whose last
/// word is a count, limit, flag or location (`pin_retries_left`, `password_min_length`,
/// `pin_file`, `private_key_path`, `share_count`, `cookie_name`, …), so the report keeps
/// "PIN locked, 0 tries left".
pub fn is_secret_key(name: &str) -> bool {
    let words = words(name);
    let Some(last) = words.last() else {
        return false;
    };
    if DESCRIPTIVE_LAST_WORDS.contains(&last.as_str()) {
        return false;
    }
    let compact: String = name
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    if SECRET_FRAGMENTS.iter().any(|f| compact.contains(f)) {
        return true;
    }
    words.iter().any(|w| {
        let pin = (w.starts_with("pin") && !w.starts_with("ping") && !w.starts_with("pinn"))
            || w.ends_with("pin");
        let share = (w.starts_with("share") && !w.starts_with("shared")) || w.ends_with("share");
        pin || share
    })
}

const SECRET_FRAGMENTS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "private",
    "authorization",
    "cookie",
    "apikey",
    "accesstoken",
    "refreshtoken",
    "authtoken",
    "sessionid",
    "credential",
    "bearer",
    "密码",
    "口令",
    "私钥",
];

const DESCRIPTIVE_LAST_WORDS: &[&str] = &[
    "retries",
    "retry",
    "attempts",
    "tries",
    "left",
    "remaining",
    "count",
    "counter",
    "len",
    "length",
    "min",
    "max",
    "set",
    "required",
    "enabled",
    "locked",
    "lockout",
    "policy",
    "file",
    "path",
    "dir",
    "source",
    "env",
    "name",
    "type",
    "kind",
    "label",
    "status",
    "state",
    "format",
    "threshold",
    "total",
    "index",
    "expires",
    "expiry",
    "age",
    "timeout",
];

/// Lower-case words of a key: split at non-alphanumerics, lower→upper case changes,
/// `ABCDef` → `abc def`, and ASCII/non-ASCII changes (`用户PIN` → `用户 pin`).
fn words(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut words = Vec::new();
    let mut word = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|p| chars.get(p)) {
            let next = chars.get(i + 1).copied();
            let camel = prev.is_lowercase() && c.is_uppercase()
                || prev.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase);
            let script = prev.is_alphanumeric() && prev.is_ascii() != c.is_ascii();
            if (camel || script) && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
        }
        word.extend(c.to_lowercase());
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

fn regex(pattern: &str) -> Regex {
    // The patterns are constants, checked by the tests.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("valid built-in pattern")
}

static PEM_BEGIN: LazyLock<Regex> = LazyLock::new(|| regex(r"-----BEGIN ([A-Za-z0-9 ]+)-----"));
static PEM_LINE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"^\s*(?:[A-Za-z0-9+/=]*|(?:Proc-Type|DEK-Info|Comment):.*)\s*$"));
static URL_PASSWORD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"([A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@\[\]]*:)[^/\s@]+@"));
static KEY: LazyLock<Regex> =
    LazyLock::new(|| regex(r#"([\p{L}\p{N}_][\p{L}\p{N}_.\-]*)(\\?["'])?[ \t]*([=:：])[ \t]*"#));
static OPTION: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[ \t])--([A-Za-z][A-Za-z0-9_\-]*)[ \t]+"));
static BEARER: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b((?i:bearer))[ \t]+[A-Za-z0-9\-._~+/]{8,}=*"));
static JWT: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\beyJ[A-Za-z0-9_\-]+\.eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"));
static X509_ATTR: LazyLock<Regex> = LazyLock::new(|| {
    let names: Vec<String> = X509_ATTRIBUTES
        .iter()
        .filter(|(n, _)| *n != "E")
        .map(|(n, _)| regex::escape(n))
        .collect();
    regex(&format!(r"(?:(?i:{})|E)[ \t]*=[ \t]*", names.join("|")))
});
static ALNUM_RUN: LazyLock<Regex> = LazyLock::new(|| regex(r"[0-9A-Za-z]+"));
static MOBILE: LazyLock<Regex> = LazyLock::new(|| regex(r"^(?:0086|86)?1[3-9][0-9]{9}$"));
static SPACED_MOBILE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"1[3-9][0-9][ \-][0-9]{4}[ \-][0-9]{4}"));
static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.([A-Za-z]{2,})",
    )
});
/// The capture group of [`EMAIL`] is the top-level domain; these are unit types instead.
const SYSTEMD_UNIT_TYPES: &[&str] = &[
    "service",
    "socket",
    "target",
    "timer",
    "mount",
    "automount",
    "path",
    "slice",
    "scope",
    "device",
    "swap",
];

/// Rule 2: PEM blocks of private keys and secrets, END line included; a block cut short
/// (a truncated log) is removed up to its last base64 line.
fn private_key_blocks(input: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let mut search = 0;
    while let Some(c) = PEM_BEGIN.captures_at(input, search) {
        let (Some(all), Some(label)) = (c.get(0), c.get(1)) else {
            break;
        };
        search = all.end();
        let upper = label.as_str().to_ascii_uppercase();
        if all.start() < done || !(upper.contains("PRIVATE KEY") || upper.contains("SECRET")) {
            continue;
        }
        let end_marker = format!("-----END {}-----", label.as_str());
        let end = match input[all.end()..].find(&end_marker) {
            Some(i) => all.end() + i + end_marker.len(),
            None => truncated_block_end(input, all.end()),
        };
        out.push_str(&input[done..all.start()]);
        out.push_str(REDACTED_PRIVATE_KEY);
        done = end;
        search = end;
    }
    if done == 0 && out.is_empty() {
        return Cow::Borrowed(input);
    }
    out.push_str(&input[done..]);
    Cow::Owned(out)
}

fn truncated_block_end(input: &str, from: usize) -> usize {
    let line_end = |i: usize| input[i..].find('\n').map_or(input.len(), |n| i + n);
    let mut end = line_end(from);
    while end < input.len() {
        let next = line_end(end + 1);
        let line = &input[end + 1..next];
        // A blank line is part of the block only between headers and base64.
        let blank_inside = line.trim().is_empty() && next < input.len() && {
            let after = &input[next + 1..line_end(next + 1)];
            !after.trim().is_empty() && PEM_LINE.is_match(after)
        };
        if !blank_inside && (line.trim().is_empty() || !PEM_LINE.is_match(line)) {
            break;
        }
        end = next;
    }
    end
}

/// Rule 4: values after secret-like keys.
fn key_values(input: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let mut search = 0;
    while let Some(c) = KEY.captures_at(input, search) {
        let (Some(all), Some(key), Some(sep)) = (c.get(0), c.get(1), c.get(3)) else {
            break;
        };
        search = all.end();
        let quote = c.get(2).map(|q| q.as_str());
        let rest = &input[all.end()..];
        // `a::b` paths, `x == y` comparisons and `key:` with nothing after are not pairs.
        let after_sep = &input[sep.end()..];
        if after_sep.starts_with(':')
            || after_sep.starts_with('=')
            || input[..sep.start()].ends_with(':')
        {
            continue;
        }
        if !is_secret_key(key.as_str()) || rest.starts_with('\n') || rest.starts_with('\r') {
            continue;
        }
        let line_start = input[..key.start()].rfind('\n').map_or(0, |i| i + 1);
        let before_key = input[line_start..key.start()].trim_start();
        let whole_line = quote.is_none()
            && (before_key.is_empty() || before_key == "export " || before_key == "- ");
        let Some((from, to, replacement)) = secret_value(rest, whole_line, quote) else {
            continue;
        };
        out.push_str(&input[done..all.end() + from]);
        out.push_str(replacement);
        done = all.end() + to;
        search = done;
    }
    if done == 0 {
        return Cow::Borrowed(input);
    }
    out.push_str(&input[done..]);
    Cow::Owned(out)
}

/// The `--pin 1234` spelling (the `--pin=1234` one is a `key=value`).
fn command_line_options(input: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let mut search = 0;
    while let Some(c) = OPTION.captures_at(input, search) {
        let (Some(all), Some(key)) = (c.get(0), c.get(1)) else {
            break;
        };
        search = all.end();
        let rest = &input[all.end()..];
        if !is_secret_key(key.as_str()) || rest.starts_with('-') {
            continue;
        }
        let Some((from, to, replacement)) = secret_value(rest, false, None) else {
            continue;
        };
        out.push_str(&input[done..all.end() + from]);
        out.push_str(replacement);
        done = all.end() + to;
        search = done;
    }
    if done == 0 {
        return Cow::Borrowed(input);
    }
    out.push_str(&input[done..]);
    Cow::Owned(out)
}

const AUTH_SCHEMES: &[&str] = &[
    "bearer",
    "basic",
    "digest",
    "negotiate",
    "ntlm",
    "token",
    "apikey",
    "hoba",
    "mutual",
];

/// The byte range in `rest` (which starts right after a key's separator) of the secret value,
/// and its replacement; `None` when there is nothing to hide (`null`, a marker, no value).
fn secret_value(
    rest: &str,
    whole_line: bool,
    key_quote: Option<&str>,
) -> Option<(usize, usize, &'static str)> {
    if rest.starts_with("[REDACTED") {
        return None;
    }
    for q in ["\\\"", "\"", "'"] {
        if let Some(inner) = rest.strip_prefix(q) {
            // An unterminated value (a cut log line) is hidden to the end of the line.
            let end = closing_quote(inner, q)
                .unwrap_or_else(|| inner.find(['\n', '\r']).unwrap_or(inner.len()));
            return (end > 0).then_some((q.len(), q.len() + end, REDACTED));
        }
    }
    if rest.starts_with('{') || rest.starts_with('[') {
        let end = balanced_end(rest).unwrap_or_else(|| rest.find('\n').unwrap_or(rest.len()));
        let json = matches!(key_quote, Some("\"" | "\\\""));
        return Some((0, end, if json { "\"[REDACTED]\"" } else { REDACTED }));
    }
    let line = &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())];
    let stop = |s: &str| {
        s.find(|c: char| c.is_whitespace() || "&;,\"')]}><".contains(c))
            .unwrap_or(s.len())
    };
    let first = &line[..stop(line)];
    if first.is_empty() || (key_quote.is_some() && matches!(first, "null" | "true" | "false")) {
        return None;
    }
    // Keep an HTTP authentication scheme: `Authorization: Bearer [REDACTED]`.
    let mut from = 0;
    if AUTH_SCHEMES.contains(&first.to_ascii_lowercase().as_str()) {
        let after = &line[first.len()..];
        let spaces = after.len() - after.trim_start().len();
        if spaces > 0 && !after.trim().is_empty() {
            from = first.len() + spaces;
        }
    }
    let to = if whole_line {
        line.trim_end().len()
    } else {
        from + stop(&line[from..])
    };
    (to > from).then_some((from, to, REDACTED))
}

/// Index in `s` of the closing `quote`, skipping backslash escapes.
fn closing_quote(s: &str, quote: &str) -> Option<usize> {
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with(quote) {
            return Some(i);
        }
        let step = if quote != "\\\"" && rest.starts_with('\\') {
            1 + rest[1..].chars().next().map_or(0, char::len_utf8)
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        i += step;
    }
    None
}

/// End (exclusive) of the JSON-like `{…}` or `[…]` that `s` starts with, strings respected.
fn balanced_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices().take(1 << 16) {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' => depth += 1,
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Rule 6: personal attributes of X.509 names.
fn x509_names(input: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let mut search = 0;
    while let Some(m) = X509_ATTR.find_at(input, search) {
        search = m.end();
        let before = input[..m.start()].chars().next_back();
        // Only where a name attribute can start, not inside `ABCN=` or `x.CN=`.
        if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '\\')) {
            continue;
        }
        let attr = m.as_str().split('=').next().unwrap_or("").trim();
        let Some(marker) = X509_ATTRIBUTES
            .iter()
            .find(|(n, _)| {
                if *n == "E" {
                    attr == "E"
                } else {
                    n.eq_ignore_ascii_case(attr)
                }
            })
            .map(|(_, marker)| *marker)
        else {
            continue;
        };
        let slash_form = before == Some('/');
        let rest = &input[m.end()..];
        let len = dn_value_len(rest, slash_form);
        let value = &rest[..len];
        if value.is_empty() || value.starts_with("[REDACTED") {
            continue;
        }
        // `SN=2A3B4C5D opened`: a device or certificate serial, not a surname.
        let first_word = value.split_whitespace().next().unwrap_or("");
        let serial_like = ["SN", "serialNumber", "2.5.4.5"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(attr))
            && first_word.chars().filter(char::is_ascii_hexdigit).count() >= 6
            && first_word
                .chars()
                .all(|c| c.is_ascii_hexdigit() || ":-".contains(c));
        if serial_like || (marker == "[REDACTED: name]" && is_service_name(value)) {
            continue;
        }
        out.push_str(&input[done..m.end()]);
        out.push_str(marker);
        done = m.end() + len;
        search = done;
    }
    if done == 0 {
        return Cow::Borrowed(input);
    }
    out.push_str(&input[done..]);
    Cow::Owned(out)
}

/// A common name that names a CA, responder or host rather than a person (support needs to
/// know which CA issued what): `CN=yinxin SM2 Root CA`, `CN=某某数字认证中心`, `CN=yx.example.com`.
fn is_service_name(value: &str) -> bool {
    SERVICE_NAME.is_match(value) || HOST_NAME.is_match(value)
}

static SERVICE_NAME: LazyLock<Regex> = LazyLock::new(|| {
    regex(
        r"(?i)(?:^|[^A-Za-z])(?:ca|root|ocsp|tsa|timestamp|authority|server)(?:[^A-Za-z]|$)|证书|认证|中心|根|服务",
    )
});
static HOST_NAME: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,}$")
});

/// Length of an X.509 attribute value at the start of `rest`, trailing spaces excluded.
fn dn_value_len(rest: &str, slash_form: bool) -> usize {
    let mut end = 0;
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                // An RFC 4514 escape: the next character is part of the value.
                let next = chars.next().map_or(0, |(_, n)| n.len_utf8());
                end = i + 1 + next;
                continue;
            }
            ',' | '+' | '\n' | '\r' | '"' | ';' | '>' | ')' | ']' | '}' | '\t' => break,
            '/' if slash_form => break,
            ' ' if next_is_key(&rest[i..]) => break,
            _ => {}
        }
        if !c.is_whitespace() {
            end = i + c.len_utf8();
        }
    }
    end
}

/// Whether `s` (starting with white space) continues with another `key=` or `key:`.
fn next_is_key(s: &str) -> bool {
    let s = s.trim_start();
    let key_len = s
        .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '.' | '-')))
        .unwrap_or(s.len());
    key_len > 0 && matches!(s[key_len..].chars().next(), Some('=' | ':'))
}

/// Rules 7 and 8 on whole runs of ASCII letters and digits.
fn alnum_runs(input: &str) -> Cow<'_, str> {
    ALNUM_RUN.replace_all(input, |c: &Captures<'_>| {
        let run = &c[0];
        if is_resident_id(run) {
            "[REDACTED: id number]".to_string()
        } else if MOBILE.is_match(run) {
            "[REDACTED: phone]".to_string()
        } else {
            run.to_string()
        }
    })
}

/// `re`'s matches that are not part of a longer ASCII letter/digit run.
fn replace_bounded<'a>(input: &'a str, re: &Regex, marker: &str) -> Cow<'a, str> {
    let mut out = String::new();
    let mut done = 0;
    for m in re.find_iter(input) {
        let before = input[..m.start()].chars().next_back();
        let after = input[m.end()..].chars().next();
        if before.is_some_and(|c| c.is_ascii_alphanumeric())
            || after.is_some_and(|c| c.is_ascii_alphanumeric())
        {
            continue;
        }
        out.push_str(&input[done..m.start()]);
        out.push_str(marker);
        done = m.end();
    }
    if done == 0 {
        return Cow::Borrowed(input);
    }
    out.push_str(&input[done..]);
    Cow::Owned(out)
}

/// A GB 11643 citizen identity number: 17 digits and an ISO 7064 MOD 11-2 check character,
/// with a region code not starting with 0 and a birth date from 1800 to 2099.
fn is_resident_id(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || b[0] == b'0' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        b[r].iter().fold(0, |n, d| n * 10 + u32::from(d - b'0'))
    };
    let (year, month, day) = (num(6..10), num(10..12), num(12..14));
    if !(1800..=2099).contains(&year) || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return false;
    }
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize];
    b[17].to_ascii_uppercase() == check
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    const SM3: &str = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0";

    fn r() -> Redactor {
        Redactor::new()
    }

    /// Every case checked, all differences reported at once.
    fn check(cases: &[(&str, &str)]) {
        let wrong: Vec<String> = cases
            .iter()
            .map(|(input, want)| (input, want, r().text(input)))
            .filter(|(_, want, got)| got != *want)
            .map(|(input, want, got)| format!("{input:?}\n   got {got:?}\n  want {want:?}"))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn literal_secrets_everywhere() {
        let r = Redactor::new()
            .with_secret("")
            .with_secret("   ")
            .with_secret("271828")
            .with_secret("machine-7f3a");
        assert_eq!(
            r.text("pin 271828, id=machine-7f3a, in x271828y"),
            "pin [REDACTED], id=[REDACTED], in x[REDACTED]y"
        );
        // Empty secrets are ignored, not matched everywhere.
        assert_eq!(r.text("nothing here"), "nothing here");
        // A secret containing another is replaced whole, once.
        let r = Redactor::new().with_secret("12").with_secret("123456");
        assert_eq!(r.text("a123456b12"), "a[REDACTED]b[REDACTED]");
        assert_eq!(format!("{r:?}"), "Redactor { secrets: 2 }");
        // The marker itself never gets redacted again.
        let r = Redactor::new().with_secret("RED");
        assert_eq!(r.text("RED"), "[REDACTED]");
    }

    #[test]
    fn private_key_blocks_go_whole() {
        for label in [
            "PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "EC PRIVATE KEY",
            "RSA PRIVATE KEY",
            "YINXIN TOKEN SECRET",
        ] {
            let text = format!(
                "before\n-----BEGIN {label}-----\nMIGHAgEAMBMGByqGSM49AgEGCCqBHM9VAYItBG0wawIBAQQg\nAbCd==\n-----END {label}-----\nafter\n"
            );
            assert_eq!(
                r().text(&text),
                "before\n[REDACTED: private key]\nafter\n",
                "{label}"
            );
        }
        // In a JSON string, with escaped newlines.
        let json =
            r#"{"key":"-----BEGIN PRIVATE KEY-----\nMIGHAgEA\n-----END PRIVATE KEY-----\n"}"#;
        assert_eq!(r().text(json), r#"{"key":"[REDACTED: private key]\n"}"#);
        // Cut short: the base64 lines go, the next log line stays.
        let cut = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A\n\nMIIEpAIB\n2024-01-07 INFO next line\n";
        assert_eq!(
            r().text(cut),
            "[REDACTED: private key]\n2024-01-07 INFO next line\n"
        );
        // Certificates and public keys stay.
        let cert = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----";
        assert_eq!(r().text(cert), cert);
    }

    #[test]
    fn secret_keys() {
        for key in [
            "pin",
            "PIN",
            "user_pin",
            "userPin",
            "sopin",
            "YINXIN_PIN",
            "pin-value",
            "PIN码",
            "password",
            "DB_PASSWORD",
            "passwd",
            "passphrase",
            "client_secret",
            "token_secret",
            "share",
            "shares",
            "unseal_share",
            "private_key",
            "privateKey",
            "Authorization",
            "Proxy-Authorization",
            "Cookie",
            "Set-Cookie",
            "api_key",
            "apiKey",
            "X-API-Key",
            "access_token",
            "X-Auth-Token",
            "session_id",
            "用户密码",
            "口令",
        ] {
            assert!(is_secret_key(key), "{key}");
        }
        for key in [
            "token",
            "token_file",
            "tokens",
            "mapping",
            "typing",
            "ping_interval",
            "pinned_cert",
            "opinion",
            "shared_dir",
            "pin_retries_left",
            "pinRetries",
            "password_min_length",
            "pin_file",
            "private_key_path",
            "share_count",
            "cookie_name",
            "sha256",
            "serial",
            "user",
            "",
            "用户名",
        ] {
            assert!(!is_secret_key(key), "{key}");
        }
    }

    #[test]
    fn key_value_spellings() {
        let cases = [
            ("login pin=123456 user=bob", "login pin=[REDACTED] user=bob"),
            ("pin=123456 user=bob", "pin=[REDACTED]"),
            (
                "INFO login token=alice pin=1234",
                "INFO login token=alice pin=[REDACTED]",
            ),
            ("token=alice", "token=alice"),
            ("export YINXIN_PIN=123 456", "export YINXIN_PIN=[REDACTED]"),
            ("  password = hunter2 # old", "  password = [REDACTED]"),
            (
                "db.password: 's3 cr3t' # x",
                "db.password: '[REDACTED]' # x",
            ),
            (
                r#"{"pin": "1234", "token": "alice"}"#,
                r#"{"pin": "[REDACTED]", "token": "alice"}"#,
            ),
            (r#"{"pin":123456,"n":1}"#, r#"{"pin":[REDACTED],"n":1}"#),
            (
                r#"{"pin": null, "share": true}"#,
                r#"{"pin": null, "share": true}"#,
            ),
            (
                r#"{"shares": ["a", "b"], "k": 1}"#,
                r#"{"shares": "[REDACTED]", "k": 1}"#,
            ),
            (
                r#"msg="{\"pin\":\"9876\"}""#,
                r#"msg="{\"pin\":\"[REDACTED]\"}""#,
            ),
            (
                r#"Config { pin: "1234", label: "x" }"#,
                r#"Config { pin: "[REDACTED]", label: "x" }"#,
            ),
            (
                "Authorization: Bearer abc.def.ghi",
                "Authorization: Bearer [REDACTED]",
            ),
            (
                "authorization: Basic dXNlcjpwdw==",
                "authorization: Basic [REDACTED]",
            ),
            ("Cookie: sid=abc; theme=dark", "Cookie: [REDACTED]"),
            (
                "GET /x?user=bob&password=pw&y=1",
                "GET /x?user=bob&password=[REDACTED]&y=1",
            ),
            (
                "pkcs11:token=t;pin-value=0000",
                "pkcs11:token=t;pin-value=[REDACTED]",
            ),
            (
                "yinxin token sign --pin 1234 --in a",
                "yinxin token sign --pin [REDACTED] --in a",
            ),
            (
                "yinxin token sign --pin=1234",
                "yinxin token sign --pin=[REDACTED]",
            ),
            (
                "pin_retries_left=0 pin_file=/etc/pin",
                "pin_retries_left=0 pin_file=/etc/pin",
            ),
            (
                "登录 密码：abc123 用户名：bob",
                "登录 密码：[REDACTED] 用户名：bob",
            ),
            ("密码：abc123 用户名：bob", "密码：[REDACTED]"),
            (
                "use yinxin_token::pin::verify",
                "use yinxin_token::pin::verify",
            ),
            ("if pin == 3", "if pin == 3"),
            ("Password:\nnext", "Password:\nnext"),
            ("password=\"unterminated", "password=\"[REDACTED]"),
            (
                "postgres://app:s3cret@db:5432/yx",
                "postgres://app:[REDACTED]@db:5432/yx",
            ),
            ("sent bearer eyJhbGciOi.abc.def", "sent bearer [REDACTED]"),
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln end",
                "jwt [REDACTED: token] end",
            ),
        ];
        check(&cases);
    }

    #[test]
    fn resident_ids() {
        assert_eq!(
            r().text("身份证号11010519491231002X，已核验"),
            "身份证号[REDACTED: id number]，已核验"
        );
        assert_eq!(
            r().text("id=440308199901011234"),
            "id=[REDACTED: id number]"
        );
        assert_eq!(r().text("x 11010519491231002x"), "x [REDACTED: id number]");
        // Wrong check digit, impossible date, inside a longer run: kept.
        for keep in [
            "440308199901011235",
            "440308199913011234",
            "0440308199901011234",
            "a440308199901011234",
            "440308199901011234ff",
        ] {
            assert_eq!(r().text(keep), keep);
        }
    }

    #[test]
    fn mobile_numbers() {
        let cases = [
            ("手机13812345678。", "手机[REDACTED: phone]。"),
            ("tel=+8613812345678", "tel=+[REDACTED: phone]"),
            ("call 138-1234-5678 now", "call [REDACTED: phone] now"),
            ("call 138 1234 5678", "call [REDACTED: phone]"),
            ("12812345678", "12812345678"),
            ("138123456789", "138123456789"),
            ("ts=1713812345678", "ts=1713812345678"),
            ("a13812345678", "a13812345678"),
            ("serial=0x13812345678", "serial=0x13812345678"),
        ];
        check(&cases);
    }

    #[test]
    fn email_addresses() {
        assert_eq!(
            r().text("发送至zhang.san+yx@example.com.cn完成"),
            "发送至[REDACTED: email]完成"
        );
        assert_eq!(r().text("<bob@mail.example.org>"), "<[REDACTED: email]>");
        // systemd unit instances are not addresses.
        assert_eq!(
            r().text("yinxin-agent@alice.service"),
            "yinxin-agent@alice.service"
        );
    }

    #[test]
    fn x509_names() {
        let cases = [
            (
                "CN=张三,O=某某建设有限公司,C=CN",
                "CN=[REDACTED: name],O=某某建设有限公司,C=CN",
            ),
            (
                "/C=CN/O=某某建设有限公司/CN=张三",
                "/C=CN/O=某某建设有限公司/CN=[REDACTED: name]",
            ),
            (
                "subject: /C=CN/ST=Beijing/L=Haidian/OU=IT/CN=Zhang San/emailAddress=zs@example.com",
                "subject: /C=CN/ST=Beijing/L=Haidian/OU=IT/CN=[REDACTED: name]/emailAddress=[REDACTED: email]",
            ),
            (
                "issued subject=\"SN=张,GN=三,serialNumber=ID-110105,UID=zs\" serial=1a2b",
                "issued subject=\"SN=[REDACTED: name],GN=[REDACTED: name],serialNumber=[REDACTED: id],UID=[REDACTED: id]\" serial=1a2b",
            ),
            (
                "cn = Zhang\\, San + uid=7, o=X",
                "cn = [REDACTED: name] + uid=[REDACTED: id], o=X",
            ),
            ("E=a@b.cn, CN=x", "E=[REDACTED: email], CN=[REDACTED: name]"),
            ("CN=张三 serial=3f2a", "CN=[REDACTED: name] serial=3f2a"),
            (
                "1.2.156.10260.4.1.1=#130b",
                "1.2.156.10260.4.1.1=[REDACTED: id]",
            ),
            (
                "2.5.4.42=Zhang, 2.5.4.10=Org",
                "2.5.4.42=[REDACTED: name], 2.5.4.10=Org",
            ),
            // Device and certificate serials, ABCN=, NAME=, base64 padding stay.
            ("token SN=2A3B4C5D6E opened", "token SN=2A3B4C5D6E opened"),
            ("serialNumber=3F:2A:00:11", "serialNumber=3F:2A:00:11"),
            ("ABCN=1 NAME=x", "ABCN=1 NAME=x"),
            // CAs, responders and hosts are not people.
            (
                "issuer: CN=yinxin SM2 Root CA,O=yinxin",
                "issuer: CN=yinxin SM2 Root CA,O=yinxin",
            ),
            ("CN=某某数字认证中心,C=CN", "CN=某某数字认证中心,C=CN"),
            ("CN=yinxin OCSP Responder", "CN=yinxin OCSP Responder"),
            ("/CN=yx.example.com", "/CN=yx.example.com"),
            ("CN=Carl Rootes", "CN=[REDACTED: name]"),
            (
                "O=某某公司,OU=采购部,C=CN,ST=北京,L=海淀",
                "O=某某公司,OU=采购部,C=CN,ST=北京,L=海淀",
            ),
        ];
        check(&cases);
    }

    #[test]
    fn digests_serials_and_fingerprints_survive() {
        let text = format!(
            "sha256={SHA256}\nsm3: {SM3}\nserial: 7c1e0f4f2d5b9a3c8e6d4b2a1f0e9d8c\n\
             serial=110105194912310021\nfingerprint=AB:CD:13:81:23:45:67:8E\n\
             uuid=550e8400-e29b-41d4-a716-446655440000\n\
             digest {} and {}\n",
            SHA256.to_uppercase(),
            "13812345678".repeat(4),
        );
        assert_eq!(r().text(&text), text);
    }

    #[test]
    fn multi_line_log() {
        let log = "\
2024-01-07T10:00:00Z INFO yinxin_token::soft: opened token=alice path=/home/a/.yinxin/alice.yxt
2024-01-07T10:00:01Z WARN yinxin_token::soft: wrong PIN pin=123456 retries_left=2
2024-01-07T10:00:02Z INFO yinxin::client: POST https://ca.example.com/api/v1/certificates
  Authorization: Bearer yx_3b1f9c0e7a6d
  subject: CN=李四,OU=财务部,O=某某医院,C=CN
2024-01-07T10:00:03Z INFO issued serial=7c1e0f4f2d5b9a3c sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
2024-01-07T10:00:04Z INFO 联系人 13912345678 邮箱 lisi@example.cn
";
        let want = "\
2024-01-07T10:00:00Z INFO yinxin_token::soft: opened token=alice path=/home/a/.yinxin/alice.yxt
2024-01-07T10:00:01Z WARN yinxin_token::soft: wrong PIN pin=[REDACTED] retries_left=2
2024-01-07T10:00:02Z INFO yinxin::client: POST https://ca.example.com/api/v1/certificates
  Authorization: Bearer [REDACTED]
  subject: CN=[REDACTED: name],OU=财务部,O=某某医院,C=CN
2024-01-07T10:00:03Z INFO issued serial=7c1e0f4f2d5b9a3c sha256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
2024-01-07T10:00:04Z INFO 联系人 [REDACTED: phone] 邮箱 [REDACTED: email]
";
        assert_eq!(r().text(log), want);
        // Redacting twice changes nothing more.
        assert_eq!(r().text(want), want);
    }

    #[test]
    fn json_documents() {
        let r = Redactor::new().with_secret("271828");
        let mut v = serde_json::json!({
            "token": "alice",
            "pin": "1234",
            "userPin": 5678,
            "pin_retries_left": 3,
            "pin_set": true,
            "shares": ["a", "b"],
            "private": {"d": "x"},
            "password": null,
            "note": "subject CN=张三,O=X, mobile 13812345678",
            "nested": [{"client_secret": "s", "sha256": SHA256}],
            "code": 271828,
        });
        r.json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "token": "alice",
                "pin": "[REDACTED]",
                "userPin": "[REDACTED]",
                "pin_retries_left": 3,
                "pin_set": true,
                "shares": "[REDACTED]",
                "private": "[REDACTED]",
                "password": null,
                "note": "subject CN=[REDACTED: name],O=X, mobile [REDACTED: phone]",
                "nested": [{"client_secret": "[REDACTED]", "sha256": SHA256}],
                "code": "[REDACTED]",
            })
        );
    }

    #[test]
    fn toml_documents() {
        let mut v: toml::Value = toml::from_str(
            r#"
            token = "alice"
            pin = "1234"
            [server]
            url = "https://admin:pw@yx.example.com"
            api_key = "k"
            pin_required = true
            [[peers]]
            password = 12
            subject = "/C=CN/CN=王五"
            "#,
        )
        .unwrap();
        Redactor::new().toml(&mut v);
        let want: toml::Value = toml::from_str(
            r#"
            token = "alice"
            pin = "[REDACTED]"
            [server]
            url = "https://admin:[REDACTED]@yx.example.com"
            api_key = "[REDACTED]"
            pin_required = true
            [[peers]]
            password = "[REDACTED]"
            subject = "/C=CN/CN=[REDACTED: name]"
            "#,
        )
        .unwrap();
        assert_eq!(v, want);
    }

    #[test]
    fn patterns_compile() {
        for re in [
            &PEM_BEGIN,
            &PEM_LINE,
            &URL_PASSWORD,
            &KEY,
            &OPTION,
            &BEARER,
            &JWT,
            &X509_ATTR,
            &ALNUM_RUN,
            &MOBILE,
            &SPACED_MOBILE,
            &EMAIL,
            &SERVICE_NAME,
            &HOST_NAME,
        ] {
            assert!(!re.as_str().is_empty());
        }
    }
}
