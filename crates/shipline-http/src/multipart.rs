//! `multipart/form-data` bodies (Cloudflare Pages deployments, Sentry chunk uploads), built
//! in memory so a request can be sent again.

use bytes::Bytes;

/// A form being built; the boundary is random and checked against every part.
#[derive(Debug)]
pub struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Default for Multipart {
    fn default() -> Self {
        Self::new()
    }
}

impl Multipart {
    pub fn new() -> Multipart {
        Multipart {
            boundary: format!("shipline-{:032x}", rand::random::<u128>()),
            body: Vec::new(),
        }
    }

    /// Adds a field, or with `filename` a file part (`application/octet-stream`). Errs, naming
    /// the field, in the (1 in 2^128) case that the value holds the boundary.
    pub fn part(&mut self, name: &str, filename: Option<&str>, value: &[u8]) -> Result<(), String> {
        if value
            .windows(self.boundary.len())
            .any(|w| w == self.boundary.as_bytes())
        {
            return Err(format!(
                "the form's `{name}` holds its own boundary; run again"
            ));
        }
        let disposition = match filename {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\""),
            None => format!("form-data; name=\"{name}\""),
        };
        self.body.extend_from_slice(
            format!(
                "--{}\r\nContent-Disposition: {disposition}\r\n",
                self.boundary
            )
            .as_bytes(),
        );
        if filename.is_some() {
            self.body
                .extend_from_slice(b"Content-Type: application/octet-stream\r\n");
        }
        self.body.extend_from_slice(b"\r\n");
        self.body.extend_from_slice(value);
        self.body.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// The `Content-Type` (with the boundary) and the body.
    pub fn finish(mut self) -> (String, Bytes) {
        self.body
            .extend_from_slice(format!("--{}--\r\n", self.boundary).as_bytes());
        (
            format!("multipart/form-data; boundary={}", self.boundary),
            Bytes::from(self.body),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_files() {
        let mut form = Multipart::new();
        form.part("branch", None, b"main").unwrap();
        form.part("file", Some("abc"), b"\x00\x01").unwrap();
        let (content_type, body) = form.finish();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"branch\"\r\n\r\nmain\r\n"
        )));
        assert!(text.contains(
            "name=\"file\"; filename=\"abc\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        ));
        assert!(text.ends_with(&format!("--{boundary}--\r\n")));
    }
}
