//! `hallq nats-config --config DIR --out DIR` (issue 18): a NATS identity per hall and one
//! for the district, each allowed exactly its own subjects, from the district's directory.
//!
//! A hall's machine stands in a township office; if it is taken over, what it can do on
//! the server is what its key allows, so each hall may only:
//! - publish its log and heartbeat (`hallq.hall.<id>.log`, `.beat`);
//! - ask the JetStream API about its own stream (`STREAM.INFO`, and `STREAM.MSG.GET`, by
//!   which the uplink finds where to resume and `hallq restore --from-nats` reads it);
//! - answer its own cmd subject (the district's requests) and its peer subjects
//!   (`hallq.hall.<id>.peer.*`) in the halls' queue group (`allow_responses`: a reply only
//!   to a request it was sent), and ask its `[[district.peer]]` halls about referrals on
//!   their peer subject for it (`hallq.hall.<peer>.peer.<id>`), never their cmd subject:
//!   the subject is how the peer knows who asks and what it may ask (`cmd.rs`);
//! - hear replies on its own inbox (`_INBOX.hall.<id>.>`, `auth.rs`).
//!
//! Two rights are withheld on purpose, because the server does not check what they carry
//! against the caller's permissions (both seen with nats-server 2.9): making a stream
//! (its subjects may be another hall's cmd subject, whose requests it would then keep for
//! the maker to read) and making a consumer (a push consumer's deliver subject may be
//! another hall's cmd subject, into which it would then replay what the maker wrote into
//! its own stream). So the district makes each hall's stream (`district::run`), and the
//! restore reads by `STREAM.MSG.GET`. No party may delete or purge a stream.
//!
//! Seeds are written as `hall-<id>.nk` and `district-<id>.nk`, mode 0600, and kept on a
//! second run (adding a hall does not change the others' keys); `auth.conf` is the
//! server's `authorization` block, for `include` in its configuration
//! (`kiosk-config/district/nats-server.conf`).

use std::io::Write;
use std::path::{Path, PathBuf};

use super::cmd::QUEUE_GROUP;
use crate::config::{load_district_dir, stream_name, ConfigErrors, DistrictConfig};

/// The file of the `authorization` block.
pub const AUTH_FILE: &str = "auth.conf";

#[derive(clap::Args)]
pub struct NatsConfigArgs {
    /// The district's directory: district.toml and halls/<folder>/hall.toml.
    #[arg(long)]
    pub config: PathBuf,
    /// Where the seeds and auth.conf go (made if missing; seeds already there are kept).
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum NatsConfError {
    #[error("the district's configuration has errors:\n{0}")]
    Config(ConfigErrors),
    #[error("{0}")]
    Seed(String),
    #[error("writing {0}: {1}")]
    Io(PathBuf, std::io::Error),
}

/// What one party may do on the server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permissions {
    pub publish: Vec<String>,
    pub subscribe: Vec<String>,
    /// Whether it may reply to a request it was sent (once), whatever the reply subject.
    pub responses: bool,
}

/// Hall `id`'s rights; `peers` are the halls it refers visitors to.
pub fn hall_permissions(id: &str, peers: &[String]) -> Permissions {
    let stream = stream_name(id);
    let mut publish = vec![
        crate::config::log_subject(id),
        super::uplink::beat_subject(id),
        format!("$JS.API.STREAM.INFO.{stream}"),
        format!("$JS.API.STREAM.MSG.GET.{stream}"),
    ];
    publish.extend(peers.iter().map(|p| super::cmd::peer_subject(p, id)));
    let subscribe = vec![
        format!("{} {QUEUE_GROUP}", super::cmd::cmd_subject(id)),
        format!("{} {QUEUE_GROUP}", super::cmd::peer_subject(id, "*")),
        format!("{}.>", super::auth::hall_inbox(id)),
    ];
    Permissions { publish, subscribe, responses: true }
}

/// District `id`'s rights over `halls`: their streams made and read by its durable
/// consumers (`district-<id>`), its online requests, the heartbeats.
pub fn district_permissions(id: &str, halls: &[String]) -> Permissions {
    let durable = format!("district-{id}");
    let mut publish = Vec::with_capacity(halls.len() * 3 + 6);
    for hall in halls {
        let stream = stream_name(hall);
        publish.push(format!("$JS.API.STREAM.INFO.{stream}"));
        publish.push(format!("$JS.API.STREAM.CREATE.{stream}"));
        // The district's bounds given to a stream made before them (`district::run`).
        publish.push(format!("$JS.API.STREAM.UPDATE.{stream}"));
    }
    for api in ["CREATE", "DELETE", "INFO", "MSG.NEXT"] {
        publish.push(format!("$JS.API.CONSUMER.{api}.*.{durable}"));
    }
    publish.push(format!("$JS.ACK.*.{durable}.>"));
    publish.push(super::cmd::cmd_subject("*"));
    let subscribe = vec![super::uplink::beat_subject("*"), format!("{}.>", super::auth::district_inbox(id))];
    Permissions { publish, subscribe, responses: false }
}

/// One user of the block: a public key, a comment naming whose, and its rights.
struct User {
    whose: String,
    public_key: String,
    permissions: Permissions,
}

/// The server's `authorization` block for `users`.
fn render(users: &[User], from: &Path) -> String {
    let list = |v: &[String]| v.iter().map(|s| serde_json::Value::from(s.as_str()).to_string()).collect::<Vec<_>>();
    let mut out = format!(
        "# Written by `hallq nats-config --config {}`; run it again after adding a hall.\n# Each hall and the district known by its NKey, allowed only its own subjects.\nauthorization {{\n  users = [\n",
        from.display()
    );
    for u in users {
        let p = &u.permissions;
        out.push_str(&format!("    # {}\n    {{\n      nkey: \"{}\"\n      permissions: {{\n", u.whose, u.public_key));
        out.push_str(&format!("        publish: {{ allow: [{}] }}\n", list(&p.publish).join(", ")));
        out.push_str(&format!("        subscribe: {{ allow: [{}] }}\n", list(&p.subscribe).join(", ")));
        if p.responses {
            out.push_str("        allow_responses: true\n");
        }
        out.push_str("      }\n    }\n");
    }
    out.push_str("  ]\n}\n");
    out
}

/// Writes the seeds that are missing and `auth.conf`; the lines to say.
pub fn main(args: NatsConfigArgs) -> Result<Vec<String>, NatsConfError> {
    let config = load_district_dir(&args.config).map_err(NatsConfError::Config)?;
    write(&config, &args.config, &args.out)
}

/// Writes into `out` the seeds missing there and `auth.conf` for `config` (read from `from`).
pub fn write(config: &DistrictConfig, from: &Path, out: &Path) -> Result<Vec<String>, NatsConfError> {
    make_private_dir(out)?;
    let ids: Vec<String> = config.halls.iter().map(|h| h.hall_id.clone()).collect();
    let mut said = Vec::new();
    let mut users = Vec::with_capacity(ids.len() + 1);
    let (key, made) = key_of(&out.join(format!("district-{}.nk", config.id)))?;
    said.extend(made);
    let permissions = district_permissions(&config.id, &ids);
    users.push(User { whose: format!("the district {}", config.id), public_key: key, permissions });
    for hall in &config.halls {
        let (key, made) = key_of(&out.join(format!("hall-{}.nk", hall.hall_id)))?;
        said.extend(made);
        let link = hall.config.district.as_ref();
        let peers: Vec<String> =
            link.map(|l| l.referrals.peers.iter().map(|p| p.id.clone()).collect()).unwrap_or_default();
        let permissions = hall_permissions(&hall.hall_id, &peers);
        users.push(User {
            whose: format!("the hall {} ({})", hall.hall_id, hall.folder),
            public_key: key,
            permissions,
        });
    }
    let path = out.join(AUTH_FILE);
    let partial = out.join(format!("{AUTH_FILE}.partial"));
    std::fs::write(&partial, render(&users, from)).map_err(|e| NatsConfError::Io(partial.clone(), e))?;
    std::fs::rename(&partial, &path).map_err(|e| NatsConfError::Io(path.clone(), e))?;
    said.push(format!("wrote {} ({} users); include it in nats-server's configuration", path.display(), users.len()));
    Ok(said)
}

fn make_private_dir(dir: &Path) -> Result<(), NatsConfError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|e| NatsConfError::Io(dir.to_path_buf(), e))
}

/// The public key of the seed in `path`, made (mode 0600) when there is none; and the
/// line saying it was made.
fn key_of(path: &Path) -> Result<(String, Option<String>), NatsConfError> {
    if path.exists() {
        let seed = super::auth::read_seed(path).map_err(NatsConfError::Seed)?;
        let pair = nkeys::KeyPair::from_seed(&seed).map_err(|e| NatsConfError::Seed(e.to_string()))?;
        return Ok((pair.public_key(), None));
    }
    let pair = nkeys::KeyPair::new_user();
    let seed = pair.seed().map_err(|e| NatsConfError::Seed(e.to_string()))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let io = |e| NatsConfError::Io(path.to_path_buf(), e);
    let mut file = options.open(path).map_err(io)?;
    file.write_all(format!("{seed}\n").as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok((pair.public_key(), Some(format!("made {} (copy it to its machine only)", path.display()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hall_may_touch_only_its_own_subjects_and_stream() {
        let p = hall_permissions("town-a", &["town-b".to_string()]);
        for s in &p.publish {
            let own = s.starts_with("hallq.hall.town-a.")
                || s.ends_with("HALLQ_town-a")
                || s == "hallq.hall.town-b.peer.town-a";
            assert!(own, "{s}");
            assert!(!s.contains('*') && !s.contains('>') && !s.contains("CREATE") && !s.contains("DELETE"), "{s}");
        }
        assert!(!p.publish.iter().any(|s| s.ends_with(".cmd")), "no hall asks another's cmd subject: {:?}", p.publish);
        let subscribe =
            ["hallq.hall.town-a.cmd hallq-hall", "hallq.hall.town-a.peer.* hallq-hall", "_INBOX.hall.town-a.>"];
        assert_eq!(p.subscribe, subscribe);
    }
}
