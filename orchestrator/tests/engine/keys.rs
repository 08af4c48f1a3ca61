//! The service keys that are plain engine options (logging, limits, namespaces, devices, DNS,
//! security, network IPAM), read back from the engine with `docker inspect` after `up`, and
//! counted in the config hash.

use std::time::Duration;

use serde_json::Value;

use super::helpers::{docker, TestProject};

/// `docker inspect` of container `service-1`, as JSON.
fn inspect(p: &TestProject, service: &str) -> Value {
    let text = p.inspect(service, 1, "{{json .}}");
    serde_json::from_str(&text).expect("docker inspect prints JSON")
}

#[test]
fn runtime_keys_reach_the_engine() {
    let p = TestProject::new(
        r#"
services:
  a:
    image: $BOX
    command: ["sleep", "300"]
    logging:
      driver: json-file
      options: {max-size: 1k, max-file: "2"}
    ulimits:
      nproc: 4096
      nofile: {soft: 1024, hard: 2048}
    tmpfs: ["/scratch:size=1m"]
    shm_size: 32m
    sysctls: {net.core.somaxconn: 511}
    mem_limit: 64m
    memswap_limit: 128m
    mem_reservation: 32m
    cpus: 0.5
    cpu_shares: 512
    cpuset: "0"
    pids_limit: 50
    security_opt: ["no-new-privileges:true"]
    devices: ["/dev/null:/dev/xnull:rw"]
    dns: 10.0.0.53
    dns_search: example.test
    dns_opt: ["ndots:2"]
    ipc: shareable
    group_add: ["1234"]
    platform: linux/amd64
    runtime: runc
    oom_score_adj: 100
    stop_grace_period: 3s
    deploy:
      restart_policy: {condition: on-failure, max_attempts: 2}
  b:
    image: $BOX
    command: ["sleep", "300"]
    network_mode: "service:a"
    ipc: "service:a"
    pid: host
  c:
    image: $BOX
    command: ["sleep", "300"]
    network_mode: none
"#,
    );
    p.ok(&["up", "-d"]);

    let a = inspect(&p, "a");
    let host = &a["HostConfig"];
    assert_eq!(host["LogConfig"]["Type"], "json-file");
    assert_eq!(host["LogConfig"]["Config"]["max-size"], "1k");
    assert_eq!(host["LogConfig"]["Config"]["max-file"], "2");
    let ulimits: Vec<(String, i64, i64)> = host["Ulimits"]
        .as_array()
        .expect("ulimits are set")
        .iter()
        .map(|u| {
            (
                u["Name"].as_str().unwrap().to_owned(),
                u["Soft"].as_i64().unwrap(),
                u["Hard"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(
        ulimits.contains(&("nproc".into(), 4096, 4096)),
        "{ulimits:?}"
    );
    assert!(
        ulimits.contains(&("nofile".into(), 1024, 2048)),
        "{ulimits:?}"
    );
    assert_eq!(host["Tmpfs"]["/scratch"], "size=1m");
    assert_eq!(host["ShmSize"], 32 << 20);
    assert_eq!(host["Sysctls"]["net.core.somaxconn"], "511");
    assert_eq!(host["Memory"], 64 << 20);
    assert_eq!(host["MemorySwap"], 128 << 20);
    assert_eq!(host["MemoryReservation"], 32 << 20);
    assert_eq!(host["NanoCpus"], 500_000_000);
    assert_eq!(host["CpuShares"], 512);
    assert_eq!(host["CpusetCpus"], "0");
    assert_eq!(host["PidsLimit"], 50);
    assert_eq!(host["SecurityOpt"][0], "no-new-privileges:true");
    assert_eq!(host["Devices"][0]["PathOnHost"], "/dev/null");
    assert_eq!(host["Devices"][0]["PathInContainer"], "/dev/xnull");
    assert_eq!(host["Devices"][0]["CgroupPermissions"], "rw");
    assert_eq!(host["Dns"][0], "10.0.0.53");
    assert_eq!(host["DnsSearch"][0], "example.test");
    assert_eq!(host["DnsOptions"][0], "ndots:2");
    assert_eq!(host["IpcMode"], "shareable");
    assert_eq!(host["GroupAdd"][0], "1234");
    assert!(p.sh("a", "id -G").split(' ').any(|g| g == "1234"));
    assert_eq!(host["Runtime"], "runc");
    assert_eq!(host["OomScoreAdj"], 100);
    assert_eq!(host["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(host["RestartPolicy"]["MaximumRetryCount"], 2);
    assert_eq!(a["Config"]["StopTimeout"], 3);
    assert_eq!(a["Platform"], "linux");
    // What the container sees.
    assert_eq!(p.sh("a", "cat /proc/sys/net/core/somaxconn"), "511");
    assert_eq!(p.sh("a", "ulimit -n"), "1024");
    assert!(p.sh("a", "cat /etc/resolv.conf").contains("ndots:2"));
    assert!(p
        .sh("a", "ls /dev/xnull && mount | grep /scratch")
        .contains("tmpfs"));

    let b = inspect(&p, "b");
    // The engine keeps the ID of the container a namespace comes from.
    let a_id = p.container_id("a", 1).unwrap();
    assert_eq!(b["HostConfig"]["NetworkMode"], format!("container:{a_id}"));
    assert_eq!(b["HostConfig"]["IpcMode"], format!("container:{a_id}"));
    assert_eq!(b["HostConfig"]["PidMode"], "host");
    assert_eq!(
        b["Config"]["Labels"]["com.docker.compose.depends_on"], "a:service_started:true",
        "sharing a's namespaces makes b depend on a"
    );
    // b shares a's network namespace: same hostname, same interfaces.
    assert_eq!(p.sh("b", "hostname"), p.sh("a", "hostname"));

    let c = inspect(&p, "c");
    assert_eq!(c["HostConfig"]["NetworkMode"], "none");
    assert_eq!(p.sh("c", "ls /sys/class/net | sort | tr '\\n' ' '"), "lo");
}

#[test]
fn log_rotation_by_max_size_keeps_only_the_last_lines() {
    let p = TestProject::new(
        r#"
services:
  chatty:
    image: $BOX
    command: ["sh", "-c", "i=0; while [ $$i -lt 3000 ]; do i=$$((i+1)); echo line-$$i-padding-padding-padding; done; sleep 300"]
    logging:
      driver: json-file
      options: {max-size: 2k, max-file: "2"}
"#,
    );
    p.ok(&["up", "-d"]);
    let name = format!("{}-chatty-1", p.name);
    p.eventually("the last line is logged", Duration::from_secs(30), || {
        docker(&["logs", "--tail", "1", &name]).contains("line-3000-")
    });
    let logs = docker(&["logs", &name]);
    let lines = logs.lines().count();
    assert!(
        lines < 300,
        "2 files of 2k hold far fewer than the 3000 lines written; got {lines}"
    );
    assert!(
        !logs.contains("line-1-"),
        "the first lines were rotated away"
    );
    let log_path = p.inspect("chatty", 1, "{{.LogPath}}");
    assert!(
        std::path::Path::new(&format!("{log_path}.1")).exists(),
        "a rotated file {log_path}.1 exists"
    );
}

#[test]
fn network_ipam_and_external_links_are_applied() {
    let p = TestProject::new("services: {}\n");
    // A subnet of the test's own, so that parallel runs do not collide.
    let octet = 100 + u32::from_str_radix(&p.name[4..6], 16).unwrap_or(0) % 100;
    let external = format!("{}-outside", p.name);
    docker(&[
        "network",
        "create",
        "--label",
        &format!("com.docker.compose.project={}", p.name),
        &external,
    ]);
    let other = format!("{}-other", p.name);
    docker(&[
        "run",
        "-d",
        "--name",
        &other,
        "--network",
        &external,
        "--label",
        &format!("com.docker.compose.project={}", p.name),
        super::helpers::BOX,
        "sleep",
        "300",
    ]);
    p.write(
        "compose.yaml",
        &format!(
            r#"
services:
  web:
    image: $BOX
    command: ["sleep", "300"]
    networks: [outside]
    external_links: ["{other}:legacy"]
  pooled:
    image: $BOX
    command: ["sleep", "300"]
    networks: [inner]
networks:
  inner:
    ipam:
      config:
        - subnet: 10.213.{octet}.0/24
          gateway: 10.213.{octet}.1
  outside:
    name: {external}
    external: true
"#
        ),
    );
    p.ok(&["up", "-d"]);
    let network = format!("{}_inner", p.name);
    let ipam = docker(&[
        "network",
        "inspect",
        "-f",
        "{{json .IPAM.Config}}",
        &network,
    ]);
    let ipam: Value = serde_json::from_str(&ipam).unwrap();
    assert_eq!(ipam[0]["Subnet"], format!("10.213.{octet}.0/24"));
    assert_eq!(ipam[0]["Gateway"], format!("10.213.{octet}.1"));
    let address = p.inspect(
        "pooled",
        1,
        &format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}"),
    );
    assert!(
        address.starts_with(&format!("10.213.{octet}.")),
        "{address}"
    );
    let links = p.inspect(
        "web",
        1,
        &format!("{{{{json (index .NetworkSettings.Networks \"{external}\").Links}}}}"),
    );
    assert!(links.contains("legacy"), "{links}");
    let other_ip = docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        &other,
    ]);
    assert!(
        p.sh(
            "web",
            "nslookup legacy 127.0.0.11 || getent hosts legacy || cat /etc/hosts"
        )
        .contains(&other_ip),
        "the link alias resolves to the external container ({other_ip})"
    );
}

#[test]
fn a_changed_key_recreates_and_config_hash_is_the_label_up_wrote() {
    let compose = |limit: &str| {
        format!(
            "services:\n  web:\n    image: $BOX\n    command: [\"sleep\", \"300\"]\n    mem_limit: {limit}\n    ulimits: {{nofile: 1024}}\n"
        )
    };
    let p = TestProject::new(&compose("64m"));
    p.ok(&["up", "-d"]);
    let first = p.container_id("web", 1).unwrap();
    let label = p.inspect(
        "web",
        1,
        "{{index .Config.Labels \"com.docker.compose.config-hash\"}}",
    );
    let printed = p.ok(&["config", "--hash", "*"]);
    assert!(
        printed.lines().any(|l| l == format!("web {label}")),
        "config --hash prints the label up wrote ({label}):\n{printed}"
    );

    p.ok(&["up", "-d"]);
    assert_eq!(p.container_id("web", 1).unwrap(), first, "nothing changed");

    p.write("compose.yaml", &compose("96m"));
    p.ok(&["up", "-d"]);
    let second = p.container_id("web", 1).unwrap();
    assert_ne!(second, first, "a new mem_limit recreates the container");
    assert_eq!(
        p.inspect("web", 1, "{{.HostConfig.Memory}}"),
        (96u64 << 20).to_string()
    );
}

#[test]
fn config_resolve_image_digests_leaves_an_image_without_digest_as_it_is() {
    let p = TestProject::new("services:\n  web:\n    image: $BOX\n");
    let out = p.ok(&["config", "--resolve-image-digests"]);
    assert!(
        out.contains(&format!("image: {}\n", super::helpers::BOX)),
        "a locally built image has no digest:\n{out}"
    );
}

#[test]
fn up_on_a_project_without_services_says_there_is_nothing_to_do() {
    let p = TestProject::new("services: {}\n");
    let out = p.run(&["up", "-d"]);
    let text = super::helpers::text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("no services"), "{text}");
    assert!(p.containers().is_empty());
}

#[test]
fn cgroup_scheduling_and_namespace_keys_reach_the_engine() {
    // A rate limit needs a real block device: the host's first disk.
    let disk = std::fs::read_dir("/sys/block")
        .expect("/sys/block lists the block devices")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| !n.starts_with("loop") && !n.starts_with("zram") && !n.starts_with("ram"))
        .map(|n| format!("/dev/{n}"))
        .find(|d| std::path::Path::new(d).exists())
        .expect("a block device");
    let p = TestProject::new(
        &r#"
services:
  tuned:
    image: $BOX
    command: ["sleep", "300"]
    label_file: ./team.labels
    labels: {team: written-wins}
    cgroup: private
    cpu_period: 100000
    cpu_quota: 50000
    device_cgroup_rules: ["c 1:3 mr"]
    domainname: example.test
    mem_swappiness: 10
    oom_kill_disable: true
    mem_limit: 64m
    userns_mode: host
    volume_driver: local
    blkio_config:
      device_read_bps: [{path: DISK, rate: 1m}]
"#
        .replace("DISK", &disk),
    );
    p.write("team.labels", "team=from-file\nowner=ops\n");
    p.ok(&["up", "-d"]);
    let c = inspect(&p, "tuned");
    let host = &c["HostConfig"];
    assert_eq!(host["CgroupnsMode"], "private");
    assert_eq!(host["CpuPeriod"], 100_000);
    assert_eq!(host["CpuQuota"], 50_000);
    assert_eq!(host["DeviceCgroupRules"][0], "c 1:3 mr");
    assert_eq!(host["MemorySwappiness"], 10);
    assert_eq!(host["OomKillDisable"], true);
    assert_eq!(host["UsernsMode"], "host");
    assert_eq!(host["VolumeDriver"], "local");
    assert_eq!(host["BlkioDeviceReadBps"][0]["Path"], disk.as_str());
    assert_eq!(host["BlkioDeviceReadBps"][0]["Rate"], 1 << 20);
    assert_eq!(c["Config"]["Domainname"], "example.test");
    assert_eq!(c["Config"]["Labels"]["owner"], "ops");
    assert_eq!(c["Config"]["Labels"]["team"], "written-wins");
}
