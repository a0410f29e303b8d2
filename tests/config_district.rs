//! `[district]` as hallq reads it: a hall without the table runs alone; with it, the hall
//! id defaults to `[hall] id`; a URL that is not one NATS server, carries a password or
//! has no port, and a hall id that would change a subject's meaning, are refused with file,
//! line and key.

use crate::support;

use hallq::config::load_dir;

fn load(table: &str) -> Result<hallq::config::Config, String> {
    let dir = support::config_dir(|h| format!("{h}\n[district]\n{table}\n"));
    load_dir(dir.path()).map_err(|e| e.to_string())
}

#[test]
fn the_example_hall_runs_alone_and_a_linked_hall_is_named_by_its_id() {
    let alone = load_dir(support::config_dir(|h| h).path()).expect("the example hall");
    assert!(alone.district.is_none(), "without [district] the hall publishes nowhere");
    let linked = load("nats_url = \"nats://127.0.0.1:4222\"").expect("a linked hall");
    let link = linked.district.expect("the link");
    assert_eq!(link.hall_id, "qingchuan");
    assert_eq!(link.log_subject(), "hallq.hall.qingchuan.log");
    assert_eq!(link.stream_name(), "HALLQ_qingchuan");
    let named = load("nats_url = \"tls://nats.example.gov.cn:4222\"\nhall_id = \"town-03\"").expect("its own id");
    assert_eq!(named.district.expect("the link").hall_id, "town-03");
    let keyed = load("nats_url = \"nats://127.0.0.1:4222\"\nnkey_file = \"/etc/hallq/hall.nk\"").expect("a key's file");
    assert_eq!(keyed.district.expect("the link").nkey_file, Some("/etc/hallq/hall.nk".into()));
}

#[test]
fn bad_links_are_named_with_file_line_and_key() {
    let cases = [
        ("hall_id = \"x\"", "needs nats_url"),
        ("nats_url = \"http://127.0.0.1:4222\"", "district.nats_url"),
        ("nats_url = \"nats://127.0.0.1\"", "name the port"),
        ("nats_url = \"nats://hall:secret@127.0.0.1:4222\"", "no user or password"),
        ("nats_url = \"nats://127.0.0.1:4222\"\nhall_id = \"a.b\"", "district.hall_id"),
        ("nats_url = \"nats://127.0.0.1:4222\"\nhall_id = \">\"", "district.hall_id"),
        ("nats_url = \"nats://127.0.0.1:4222\"\nsubject = \"x\"", "district.subject"),
        ("nats_url = \"nats://127.0.0.1:4222\"\ncreds_file = \"a.creds\"\nnkey_file = \"a.nk\"", "not both"),
        ("nats_url = \"nats://127.0.0.1:4222\"\nnkey_file = \"\"", "district.nkey_file"),
    ];
    for (table, named) in cases {
        let err = load(table).expect_err(table);
        assert!(err.contains(named), "{table:?}: the error names {named:?}: {err}");
        assert!(err.contains("hall.toml"), "{table:?}: the error names the file: {err}");
    }
}

/// 跨中心转办 (issue 18): the peers, the reasons and the district's address.
#[test]
fn referral_peers_and_reasons_are_read_and_checked() {
    const URL: &str = "nats_url = \"nats://127.0.0.1:4222\"\n";
    let plain = load(URL).expect("a linked hall").district.expect("the link").referrals;
    assert!(plain.peers.is_empty() && plain.district_url.is_none());
    assert_eq!(plain.reasons, hallq::config::DEFAULT_REASONS.map(String::from).to_vec(), "the defaults");
    let peers = "[[district.peer]]\nid = \"town-b\"\nname = \"西岭乡\"\n";
    let table =
        format!("{URL}public_url = \"https://district.example.gov.cn/\"\nreferral_reasons = [\"需属地办理\"]\n{peers}");
    let r = load(&table).expect("peers").district.expect("the link").referrals;
    assert_eq!((r.peers.len(), r.peers[0].id.as_str(), r.peers[0].name.as_str()), (1, "town-b", "西岭乡"));
    assert_eq!(
        (r.reasons.as_slice(), r.district_url.map(|u| u.as_str().to_string())),
        (&["需属地办理".to_string()][..], Some("https://district.example.gov.cn".into()))
    );
    let cases = [
        (format!("{URL}[[district.peer]]\nid = \"a.b\"\nname = \"x\"\n"), "district.peer[0].id"),
        (format!("{URL}[[district.peer]]\nid = \"qingchuan\"\nname = \"x\"\n"), "not its own peer"),
        (format!("{URL}{peers}{peers}"), "listed twice"),
        (format!("{URL}[[district.peer]]\nid = \"town-b\"\n"), "district.peer[0].name"),
        (
            format!("{URL}[[district.peer]]\nid = \"town-b\"\nname = \"x\"\ncolour = \"red\"\n"),
            "district.peer[0].colour",
        ),
        (format!("{URL}referral_reasons = []\n"), "1 to 12 reasons"),
        (format!("{URL}referral_reasons = [\"{}\"]\n", "长".repeat(33)), "1 to 32 characters"),
        (format!("{URL}referral_reasons = [\"其他\", \"其他\"]\n"), "listed twice"),
        (format!("{URL}public_url = \"ftp://x\"\n"), "not http or https"),
    ];
    for (table, named) in cases {
        let err = load(&table).expect_err(&table);
        assert!(err.contains(named), "{table:?}: the error names {named:?}: {err}");
        assert!(err.contains("hall.toml"), "{table:?}: the error names the file: {err}");
    }
}
