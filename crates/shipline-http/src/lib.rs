//! HTTP for every shipline binary that talks to a remote API.
//!
//! One client builder ([`HttpClient::new`]) so that timeouts, the user agent, TLS (rustls, no
//! OpenSSL) and the retry rules are the same everywhere, and one error type whose messages
//! never contain a credential: URLs are shown through [`SafeUrl`], tokens travel as
//! [`Secret`]s in headers marked sensitive.

mod client;
mod multipart;
mod retry;
mod service;

pub use client::{ClientOptions, HttpClient, HttpError, Request, Response, Safety, next_link};
pub use multipart::Multipart;
pub use reqwest::Method;
pub use retry::{RetryPolicy, parse_retry_after};
pub use service::Service;
pub use shipline_core::{SafeUrl, Secret};
