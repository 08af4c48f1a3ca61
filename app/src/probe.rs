//! `app healthcheck`: the container's HEALTHCHECK, without curl in the image. It asks the
//! server on `LISTEN_ADDR` for `/healthz` over loopback and exits 0 only on a 200.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpStream},
    process::ExitCode,
    time::Duration,
};

/// Probes `/healthz` on the port of `LISTEN_ADDR` (default 8000).
pub fn healthcheck() -> ExitCode {
    let port = std::env::var("LISTEN_ADDR")
        .ok()
        .and_then(|a| a.parse::<SocketAddr>().ok())
        .map_or(8000, |a| a.port());
    match probe(SocketAddr::from(([127, 0, 0, 1], port))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("unhealthy: {why}");
            ExitCode::FAILURE
        }
    }
}

fn probe(addr: SocketAddr) -> Result<(), String> {
    let timeout = Duration::from_secs(2);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).map_err(|e| e.to_string())?;
    match &head[9..12] {
        b"200" => Ok(()),
        other => Err(format!(
            "/healthz answered {}",
            String::from_utf8_lossy(other)
        )),
    }
}
