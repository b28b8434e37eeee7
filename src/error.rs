//! What kind of failure an error is, said by the library so that the HTTP layer maps every
//! error to a status in one place (`server::error`), without reading messages.

/// Who is at fault, and so what a client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request asks for something that cannot be: the message is meant for the client.
    BadRequest,
    /// What the request names does not exist: the message is meant for the client.
    NotFound,
    /// A backend (a file, a database) cannot answer now, or the answer took too long; others
    /// may. The message is for the log: it may name paths or hosts.
    Unavailable,
    /// A bug or a broken invariant. The message is for the log only.
    Internal,
    /// The server is at capacity for this kind of work: the client should try again shortly.
    Busy,
}

/// Implemented by every error type that can reach a client.
pub trait Kind {
    fn kind(&self) -> ErrorKind;
}

/// A shared error (a cache hands the same failure to every waiting caller) is of its kind.
impl<T: Kind + ?Sized> Kind for std::sync::Arc<T> {
    fn kind(&self) -> ErrorKind {
        (**self).kind()
    }
}
