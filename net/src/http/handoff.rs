//! The two fd conversions a connection hand-off needs, and the only `unsafe` in this crate.
//!
//! A request for an object owned by another core is served by moving the connection, not by
//! proxying its bytes (ARCHITECTURE.md §2): the accepting core duplicates the socket fd, drops
//! its glommio stream, and sends the duplicate (an [`OwnedFd`], which is `Send`) to the owner
//! core, which rebuilds a glommio stream from it. glommio 0.9 has no `TcpStream::into_raw_fd`
//! and no `AsFd`, only `AsRawFd` and the unsafe `FromRawFd`, hence the two small blocks below.

use glommio::net::TcpStream;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd};

/// A new fd (`F_DUPFD_CLOEXEC`) for the socket under `stream`. The stream keeps its own fd.
#[allow(unsafe_code)]
pub(crate) fn dup_stream_fd(stream: &TcpStream) -> std::io::Result<OwnedFd> {
    let raw = stream.as_raw_fd();
    // SAFETY: `raw` is the open socket owned by `stream`. `stream` is borrowed for the whole of
    // this function, so the fd can be neither closed nor reused while `borrowed` exists, and
    // `borrowed` does not escape this function.
    let borrowed = unsafe { BorrowedFd::borrow_raw(raw) };
    borrowed.try_clone_to_owned()
}

/// A glommio stream that owns `fd`, which must be a TCP socket (checked: anything else is an
/// error, and the fd is closed).
#[allow(unsafe_code)]
pub(crate) fn stream_from_fd(fd: OwnedFd) -> std::io::Result<TcpStream> {
    // Safe conversion first, to check the fd really is a connected TCP socket.
    let std_stream = std::net::TcpStream::from(fd);
    std_stream.peer_addr()?;
    let raw = OwnedFd::from(std_stream).into_raw_fd();
    // SAFETY: `raw` comes from `into_raw_fd` of an `OwnedFd`, so it is open and nothing else
    // owns it; ownership passes to the returned stream, which closes it on drop. It was just
    // checked to be a connected socket, which is what glommio's stream expects.
    Ok(unsafe { TcpStream::from_raw_fd(raw) })
}
