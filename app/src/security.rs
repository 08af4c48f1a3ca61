//! What keeps other sites out: the form's CSRF token and the headers every response carries.
//!
//! The token is a double-submit cookie: a random value set as a `SameSite=Strict` cookie and
//! repeated in the form, so the board keeps no session state and any replica can check it.
//! Posts that a browser marks as cross-site (`Sec-Fetch-Site`, or an `Origin` of another host)
//! are refused before the token is even read.

use actix_web::{
    cookie::{Cookie, SameSite},
    http::header,
    middleware::DefaultHeaders,
    HttpRequest,
};
use rand::RngCore;
use subtle::ConstantTimeEq;

use crate::error::AppError;

/// The cookie that carries the CSRF token.
pub const CSRF_COOKIE: &str = "board_csrf";
/// The form field that repeats it.
pub const CSRF_FIELD: &str = "csrf_token";

const TOKEN_BYTES: usize = 32;

/// The CSRF token for this visitor, and the cookie to set when they had none yet.
pub fn csrf_token(req: &HttpRequest) -> (String, Option<Cookie<'static>>) {
    if let Some(existing) = req.cookie(CSRF_COOKIE) {
        let value = existing.value();
        if value.len() == TOKEN_BYTES * 2 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return (value.to_owned(), None);
        }
    }
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex(&bytes);
    let cookie = Cookie::build(CSRF_COOKIE, token.clone())
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    (token, Some(cookie))
}

/// Lower-case hex, two digits a byte, in one allocation (a page view without the cookie makes
/// one token; `format!` per byte was 32 allocations).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    text
}

/// Refuses a request that a browser says comes from another site.
pub fn reject_cross_site(req: &HttpRequest) -> Result<(), AppError> {
    let headers = req.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if !matches!(site, "same-origin" | "none") {
            return Err(AppError::Forbidden("cross-site posts are not accepted"));
        }
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let origin_host = origin.split_once("://").map(|(_, rest)| rest);
        let host = req.connection_info().host().to_owned();
        if origin == "null" || origin_host != Some(host.as_str()) {
            return Err(AppError::Forbidden("cross-site posts are not accepted"));
        }
    }
    Ok(())
}

/// Checks a form post: same site, and the token in the form equals the one in the cookie.
pub fn check_form(req: &HttpRequest, submitted: &str) -> Result<(), AppError> {
    reject_cross_site(req)?;
    let expected = req.cookie(CSRF_COOKIE).ok_or(AppError::Forbidden(
        "the form's security token is missing; reload the page and post again",
    ))?;
    let same: bool = expected
        .value()
        .as_bytes()
        .ct_eq(submitted.as_bytes())
        .into();
    if same && !submitted.is_empty() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "the form's security token does not match; reload the page and post again",
        ))
    }
}

/// Headers on every response: no inline script, no framing, no sniffing, no leaking referrers.
pub fn headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::REFERRER_POLICY, "same-origin"))
        .add((
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=()",
        ))
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn hex_is_two_lower_case_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }
}
