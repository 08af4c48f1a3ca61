//! A loopback tunnel to the registry, for the push from an engine on this machine
//! (`swarm up --build-host unix://...`): the orchestrator listens on `127.0.0.1:PORT` and
//! forwards each connection to the registry. Docker trusts registries on 127.0.0.0/8 without
//! TLS, so the building engine needs no `insecure-registries` entry for the in-swarm registry,
//! and its configuration (shared, often not ours to change) stays as it is. The tunnel lives as
//! long as the value; the manifest digest a push returns does not depend on the registry's
//! name, so the services name the registry by the address the nodes pull from.

use std::io;

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

/// An open tunnel; dropping it stops listening (connections in flight finish).
pub struct Tunnel {
    /// `127.0.0.1:PORT`, where the registry answers for as long as the tunnel lives.
    pub address: String,
    accept: JoinHandle<()>,
}

impl Tunnel {
    /// Listens on a free loopback port and forwards every connection to `target`
    /// (`HOST:PORT`).
    pub async fn open(target: &str) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let target = target.to_owned();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                tokio::spawn(async move {
                    match TcpStream::connect(&target).await {
                        Ok(mut outbound) => {
                            if let Err(e) =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await
                            {
                                tracing::debug!(%target, error = %e, "registry tunnel connection ended");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(%target, error = %e, "registry tunnel: could not connect")
                        }
                    }
                });
            }
        });
        tracing::debug!(%address, "registry tunnel open");
        Ok(Self { address, accept })
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn bytes_go_through_both_ways_and_the_port_closes_with_the_tunnel() {
        let echo = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = echo.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf.map(|b| b.to_ascii_uppercase()))
                .await
                .unwrap();
        });
        let tunnel = Tunnel::open(&target).await.unwrap();
        assert!(tunnel.address.starts_with("127.0.0.1:"));
        let mut client = TcpStream::connect(&tunnel.address).await.unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut answer = [0u8; 5];
        client.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"HELLO");
        let address = tunnel.address.clone();
        drop(tunnel);
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(TcpStream::connect(&address).await.is_err());
    }
}
