//! A connected display: the feed as a lobby screen receives it, over a real WebSocket.

use super::*;

/// A connected display.
pub struct Display {
    pub(super) stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// The raw text of every message received, in order.
    pub seen: Vec<String>,
    /// Messages already read off the socket and not yet handed out (the snapshot that
    /// `Api::display` waits for).
    pub(super) pending: std::collections::VecDeque<Value>,
}

impl Display {
    /// The next text frame as JSON; pings are answered and skipped. Fails on a hang (the
    /// whole wait bounded by `HANG_GUARD`: the feed's keep-alive pings, every 15 s, must not
    /// keep a test waiting for a message that never comes), a close or a frame that is not
    /// JSON.
    pub async fn next_json(&mut self) -> Value {
        if let Some(v) = self.pending.pop_front() {
            return v;
        }
        let (stream, seen) = (&mut self.stream, &mut self.seen);
        guard("the next feed message", async move {
            loop {
                match stream.next().await {
                    Some(Ok(Message::Text(t))) => {
                        let text = t.as_str().to_string();
                        let v: Value =
                            serde_json::from_str(&text).unwrap_or_else(|e| panic!("feed frame not JSON ({e}): {text}"));
                        assert!(v["type"].is_string(), "feed message without a type: {text}");
                        assert!(v["seq"].is_u64(), "feed message without a seq: {text}");
                        seen.push(text);
                        return v;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    other => panic!("the feed ended or sent a non-text frame: {other:?}"),
                }
            }
        })
        .await
    }

    /// The next message, which must be of type `ty`.
    pub async fn expect(&mut self, ty: &str) -> Value {
        let v = self.next_json().await;
        assert_eq!(v["type"], ty, "expected a {ty} message, got {v}");
        v
    }

    /// Reads until a message of type `ty` for which `pred` holds, returning it and the
    /// messages read on the way. Bounded as a whole by `HANG_GUARD`, not only per message:
    /// the feed's keep-alive pings and other messages must not keep a test waiting for one
    /// that never comes.
    pub async fn until(&mut self, ty: &str, pred: impl Fn(&Value) -> bool) -> (Value, Vec<Value>) {
        let mut skipped = Vec::new();
        let found = tokio::time::timeout(HANG_GUARD, async {
            loop {
                let v = self.next_json().await;
                if v["type"] == ty && pred(&v) {
                    return v;
                }
                skipped.push(v);
            }
        })
        .await;
        match found {
            Ok(v) => (v, skipped),
            Err(_) => panic!("hang guard: no {ty} message as wanted within {HANG_GUARD:?}; read {skipped:?}"),
        }
    }

    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        // Drain until the server's close so the socket ends cleanly.
        let _ =
            tokio::time::timeout(Duration::from_secs(2), async { while let Some(Ok(_)) = self.stream.next().await {} })
                .await;
    }

    /// The next text frame as JSON, or `None` once the feed ends or breaks (the daemon was
    /// killed or stopped): for displays that read until the daemon goes away.
    pub async fn next_or_end(&mut self) -> Option<Value> {
        loop {
            match guard("the next feed message or its end", self.stream.next()).await {
                Some(Ok(Message::Text(t))) => {
                    let text = t.as_str().to_string();
                    let v: Value =
                        serde_json::from_str(&text).unwrap_or_else(|e| panic!("feed frame not JSON ({e}): {text}"));
                    self.seen.push(text);
                    return Some(v);
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Ok(Message::Binary(b))) => panic!("the feed sent a binary frame of {} bytes", b.len()),
                Some(Ok(Message::Close(_)) | Err(_)) | None => return None,
            }
        }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::Text(text.into())).await.expect("send to the feed");
    }
}
