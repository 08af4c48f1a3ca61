//! `orchestrator convert --to kubernetes`: the real binary on the stack's own build.yml, the
//! article's v1 file and every fixture that converts, compared with golden files (run with
//! `UPDATE_GOLDEN=1` to rewrite them, then review the diff); every output validated offline by
//! `kubernetes-validate --strict` for Kubernetes 1.33 (`pip install kubernetes-validate`; the
//! test fails without it) and by our own checks, which must catch each broken object.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Command, Output},
};

use k8s_openapi::{api::core::v1::EnvVar, apimachinery::pkg::util::intstr::IntOrString};
use orchestrator::{
    convert::{self, check, Object, Options, KUBERNETES_VERSION},
    project::{self, LoadOptions},
};

const PASSWORD: &str = "golden-test-password";
/// The board role's password (build.yml requires it too).
const APP_PASSWORD: &str = "golden-app-password";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn workspace() -> PathBuf {
    manifest_dir().parent().unwrap().to_path_buf()
}

/// One conversion the golden files pin: where it runs, its arguments, its golden file.
struct Case {
    name: &'static str,
    dir: PathBuf,
    args: Vec<&'static str>,
    golden: PathBuf,
}

/// The stack, the article's v1 file, and every fixture (the broken ones in `errors` aside).
fn cases() -> Vec<Case> {
    let golden = manifest_dir().join("tests/golden");
    let mut cases = vec![
        Case {
            name: "build.yml",
            dir: workspace(),
            args: vec!["-f", "build.yml"],
            golden: golden.join("board.kubernetes.yaml"),
        },
        Case {
            name: "examples/build.yml",
            dir: workspace(),
            args: vec!["-f", "examples/build.yml", "-p", "article"],
            golden: golden.join("article.kubernetes.yaml"),
        },
    ];
    let fixtures = manifest_dir().join("tests/fixtures");
    let mut names: Vec<String> = std::fs::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "errors")
        .collect();
    names.sort();
    for name in names {
        let dir = fixtures.join(&name);
        cases.push(Case {
            name: Box::leak(name.into_boxed_str()),
            golden: dir.join("kubernetes.yaml"),
            dir,
            args: Vec::new(),
        });
    }
    cases
}

/// The environment the golden files were made with.
const GOLDEN_ENV: &[(&str, &str)] = &[
    ("BOTH", "from-shell"),
    ("SECRET_KEY", "from-shell"),
    ("POSTGRES_PASSWORD", PASSWORD),
    ("APP_DB_PASSWORD", APP_PASSWORD),
];

fn orchestrator(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .current_dir(dir)
        .env_clear()
        .env("HOME", "/home/tester")
        .envs(GOLDEN_ENV.iter().copied())
        .args(args)
        .output()
        .expect("the orchestrator runs")
}

fn convert(case: &Case, extra: &[&str]) -> Output {
    let mut args = case.args.clone();
    args.extend(["convert", "--to", "kubernetes"]);
    args.extend(extra);
    orchestrator(&case.dir, &args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `kubernetes-validate --strict` for our version on `files`; its output on failure.
fn validate(files: &[PathBuf]) -> Result<(), String> {
    let out = Command::new("kubernetes-validate")
        .args([
            "--strict",
            "--quiet",
            "-k",
            &format!("{KUBERNETES_VERSION}.0"),
        ])
        .args(files)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "kubernetes-validate could not run ({e}): `pip install kubernetes-validate` \
                 (scripts/test does)"
            )
        });
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{}{}", text(&out.stdout), text(&out.stderr)))
    }
}

#[test]
fn every_project_converts_to_its_golden_file() {
    let mut failures = Vec::new();
    for case in cases() {
        let out = convert(&case, &[]);
        assert!(out.status.success(), "{}: {}", case.name, text(&out.stderr));
        let actual = text(&out.stdout).replace(&case.dir.display().to_string(), "$DIR");
        assert!(actual.starts_with(&format!("# Kubernetes {KUBERNETES_VERSION} objects")));
        if std::env::var_os("UPDATE_GOLDEN").is_some() {
            std::fs::create_dir_all(case.golden.parent().unwrap()).unwrap();
            std::fs::write(&case.golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&case.golden).unwrap_or_else(|_| {
            panic!(
                "{}: no {} (run with UPDATE_GOLDEN=1)",
                case.name,
                case.golden.display()
            )
        });
        if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}\n--- actual\n{actual}",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_golden_file_passes_kubernetes_validate_strict() {
    let goldens: Vec<PathBuf> = cases().into_iter().map(|c| c.golden).collect();
    validate(&goldens).unwrap();
}

#[test]
fn kubernetes_validate_rejects_what_is_not_kubernetes() {
    // The control: the validator really checks, so the test above can fail.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  portz: []\n",
    )
    .unwrap();
    let err = validate(&[file]).unwrap_err();
    assert!(err.contains("portz"), "{err}");
}

#[test]
fn a_folder_gets_one_valid_file_per_object() {
    let case = &cases()[0];
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("k8s");
    let out = convert(case, &["-o", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut files: Vec<PathBuf> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        [
            "configmap-board-role.yaml",
            "deployment-app.yaml",
            "deployment-nginx.yaml",
            "secret-app-env.yaml",
            "secret-postgres-env.yaml",
            "service-app.yaml",
            "service-nginx-public.yaml",
            "service-postgres.yaml",
            "statefulset-postgres.yaml",
        ]
    );
    validate(&files).unwrap();
    assert!(text(&out.stderr).contains("wrote 9 files"));
}

#[test]
fn the_postgres_password_is_only_in_secrets() {
    let out = convert(&cases()[0], &[]);
    let yaml = text(&out.stdout);
    let documents: Vec<&str> = yaml.split("\n---\n").skip(1).collect();
    let holding = |password: &str| -> Vec<&str> {
        documents
            .iter()
            .filter(|d| d.contains(password))
            .map(|d| d.lines().find(|l| l.starts_with("kind:")).unwrap())
            .collect()
    };
    // The administrator's password: Postgres's Secret only. The board role's: Postgres's
    // (for the init script) and the app's (in DATABASE_URL).
    assert_eq!(holding(PASSWORD), ["kind: Secret"], "{yaml}");
    assert_eq!(
        holding(APP_PASSWORD),
        ["kind: Secret", "kind: Secret"],
        "{yaml}"
    );
    assert!(yaml.contains("DATABASE_URL holds a secret's value"));
    assert!(yaml.contains("secretKeyRef:\n              key: POSTGRES_PASSWORD"));
}

#[test]
fn help_names_the_kubernetes_version() {
    let out = orchestrator(&workspace(), &["convert", "--help"]);
    let help = text(&out.stdout);
    assert!(
        help.contains(&format!("Kubernetes {KUBERNETES_VERSION} objects")),
        "{help}"
    );
    assert!(help.contains("--image-prefix") && help.contains("--secret-env"));
}

/// True when some warning of `conversion` contains `text`.
fn warned(conversion: &convert::Conversion, text: &str) -> bool {
    conversion.warnings.iter().any(|w| w.contains(text))
}

/// Loads the project `t` whose compose.yaml is in `dir`, through the library.
fn load_dir(dir: &Path) -> project::Loaded {
    project::load(&LoadOptions {
        project_name: Some("t".into()),
        cwd: dir.to_path_buf(),
        ..LoadOptions::default()
    })
    .unwrap()
}

/// Loads a compose file written into a temporary folder.
fn load(compose: &str) -> (tempfile::TempDir, project::Loaded) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), compose).unwrap();
    let loaded = load_dir(dir.path());
    (dir, loaded)
}

fn board() -> project::Loaded {
    project::load(&LoadOptions {
        files: vec!["build.yml".into()],
        cwd: workspace(),
        environment: BTreeMap::from([
            ("POSTGRES_PASSWORD".into(), PASSWORD.into()),
            ("APP_DB_PASSWORD".into(), APP_PASSWORD.into()),
        ]),
        ..LoadOptions::default()
    })
    .unwrap()
}

fn env_of<'a>(objects: &'a [Object], name: &str) -> &'a [EnvVar] {
    objects
        .iter()
        .find_map(|o| match o {
            Object::Deployment(d) if o.name() == name => {
                d.spec.as_ref()?.template.spec.as_ref()?.containers[0]
                    .env
                    .as_deref()
            }
            Object::StatefulSet(s) if o.name() == name => {
                s.spec.as_ref()?.template.spec.as_ref()?.containers[0]
                    .env
                    .as_deref()
            }
            _ => None,
        })
        .unwrap()
}

#[test]
fn users_mark_variables_secret_by_flag_or_by_x_kubernetes() {
    let (_dir, loaded) = load(
        "services:\n  web:\n    image: nginx\n    environment:\n      A: plain-value\n      \
         B: by-flag-value\n      C: by-key-value\n    x-kubernetes:\n      \
         secret-environment: [C]\n",
    );
    let options = Options {
        secret_env: vec!["B".into()],
        ..Options::default()
    };
    let conversion = convert::kubernetes(&loaded, &options).unwrap();
    let env = env_of(&conversion.objects, "web");
    let by_ref: Vec<(&str, bool)> = env
        .iter()
        .map(|e| (e.name.as_str(), e.value_from.is_some()))
        .collect();
    assert_eq!(by_ref, [("A", false), ("B", true), ("C", true)]);
}

#[test]
fn reached_services_get_services_and_dependents_wait_for_them() {
    let (_dir, loaded) = load(
        "services:\n  cache:\n    image: redis\n  api:\n    image: api\n    environment:\n      \
         CACHE: redis://cache:6379\n  worker:\n    image: worker\n    depends_on: [api]\n",
    );
    let conversion = convert::kubernetes(&loaded, &Options::default()).unwrap();
    let services: Vec<&str> = conversion
        .objects
        .iter()
        .filter(|o| o.kind() == "Service")
        .map(Object::name)
        .collect();
    assert_eq!(
        services,
        ["api", "cache"],
        "named in a value, or depended on"
    );
    let yaml = conversion.to_yaml().unwrap();
    assert!(yaml.contains("until nslookup api;"), "{yaml}");
    assert!(yaml.contains("port: 6379"), "{yaml}");
    assert!(warned(&conversion, "services.api is reached by worker"));
}

#[test]
fn published_ports_follow_the_flag_and_builds_take_the_prefix() {
    let (_dir, loaded) = load(
        "services:\n  web:\n    build: .\n    ports: ['31000:80', '8080:8080']\n    deploy:\n      \
         replicas: 3\n      update_config: {parallelism: 2, order: start-first, delay: 10s}\n",
    );
    let options = Options {
        published: convert::Published::NodePort,
        image_prefix: Some("registry.example/team/".into()),
        ..Options::default()
    };
    let conversion = convert::kubernetes(&loaded, &options).unwrap();
    let yaml = conversion.to_yaml().unwrap();
    assert!(
        yaml.contains("type: NodePort") && yaml.contains("nodePort: 31000"),
        "{yaml}"
    );
    assert!(
        yaml.contains("image: registry.example/team/t-web:latest"),
        "{yaml}"
    );
    assert!(
        yaml.contains("maxSurge: 2\n      maxUnavailable: 0"),
        "{yaml}"
    );
    assert!(yaml.contains("minReadySeconds: 10") && yaml.contains("replicas: 3"));
    assert!(warned(&conversion, "8080 is outside the node port range"));
}

#[test]
fn what_cannot_convert_is_named() {
    let (_dir, loaded) = load(
        "services:\n  web:\n    image: nginx\n    network_mode: host\n    volumes: ['./site:/usr/share/nginx/html']\n    \
         privileged: true\n    restart: 'no'\n",
    );
    let conversion = convert::kubernetes(&loaded, &Options::default()).unwrap();
    for expected in [
        "services.web.network_mode is not converted",
        "services.web.privileged is not converted",
        "the host folder ./site (at /usr/share/nginx/html) is not converted",
        "services.web.restart: no is not converted",
    ] {
        assert!(
            warned(&conversion, expected),
            "{expected}: {:#?}",
            conversion.warnings
        );
    }
}

#[test]
fn our_checks_pass_a_real_conversion_and_catch_each_broken_object() {
    let conversion = convert::kubernetes(&board(), &Options::default()).unwrap();
    assert_eq!(
        check::all(&conversion.objects, &BTreeSet::new()),
        Vec::<String>::new()
    );

    type Breakage = (&'static str, fn(&mut Object));
    let breakages: [Breakage; 7] = [
        ("is not a DNS-1123 label", |o| {
            if let Object::Deployment(d) = o {
                d.metadata.name = Some("App_1".into());
            }
        }),
        ("the selector does not match", |o| {
            if let Object::Deployment(d) = o {
                let labels = d.spec.as_mut().unwrap().selector.match_labels.as_mut();
                labels.unwrap().insert("tier".into(), "x".into());
            }
        }),
        ("selects no pod", |o| {
            if let Object::Service(s) = o {
                let selector = s.spec.as_mut().unwrap().selector.as_mut().unwrap();
                selector.insert("app.kubernetes.io/name".into(), "nobody".into());
            }
        }),
        ("probe's port is not exposed", |o| {
            if let Object::StatefulSet(s) = o {
                let pod = s.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
                let probe = pod.containers[0].readiness_probe.as_mut().unwrap();
                probe.exec = None;
                probe.http_get = Some(k8s_openapi::api::core::v1::HTTPGetAction {
                    port: IntOrString::Int(8081),
                    ..Default::default()
                });
            }
        }),
        (
            "uses key PASSWORD of Secret postgres-env, which it does not hold",
            |o| {
                if let Object::StatefulSet(s) = o {
                    let pod = s.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
                    let env = pod.containers[0].env.as_mut().unwrap();
                    let secret = env.iter_mut().find_map(|e| e.value_from.as_mut()).unwrap();
                    secret.secret_key_ref.as_mut().unwrap().key = "PASSWORD".into();
                }
            },
        ),
        ("mounts pgdata, which the pod does not have", |o| {
            if let Object::StatefulSet(s) = o {
                s.spec.as_mut().unwrap().volume_claim_templates = None;
            }
        }),
        (
            "holds the value of Secret postgres-env key POSTGRES_PASSWORD in clear",
            |o| {
                if let Object::StatefulSet(s) = o {
                    let pod = s.spec.as_mut().unwrap().template.spec.as_mut().unwrap();
                    let env = pod.containers[0].env.as_mut().unwrap();
                    env.push(EnvVar {
                        name: "LEAK".into(),
                        value: Some(format!("pw={PASSWORD}")),
                        ..Default::default()
                    });
                }
            },
        ),
    ];
    for (expected, breakage) in breakages {
        let mut objects = conversion.objects.clone();
        objects.iter_mut().for_each(breakage);
        let problems = check::all(&objects, &BTreeSet::new());
        assert!(
            problems.iter().any(|p| p.contains(expected)),
            "{expected}: {problems:#?}"
        );
    }
}

#[test]
fn a_secret_interpolated_into_a_command_stops_the_conversion() {
    let (_dir, loaded) = load(
        "services:\n  db:\n    image: mariadb\n    environment:\n      MYSQL_ROOT_PASSWORD: \
         root-pass-1\n    healthcheck:\n      test: mysqladmin ping -proot-pass-1\n",
    );
    let err = convert::kubernetes(&loaded, &Options::default()).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("Deployment db: the pod spec holds the value of Secret db-env key MYSQL_ROOT_PASSWORD in clear")
            && message.contains("write $$NAME"),
        "{message}"
    );
}

#[test]
fn a_renamed_service_is_named() {
    let (_dir, loaded) = load("services:\n  my_db:\n    image: postgres\n");
    let conversion = convert::kubernetes(&loaded, &Options::default()).unwrap();
    assert_eq!(conversion.objects[0].name(), "my-db");
    assert!(warned(
        &conversion,
        "services.my_db is called my-db in Kubernetes"
    ));
}

#[test]
fn secrets_and_configs_become_objects_mounted_where_compose_puts_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("key.bin"), [0xff, 0xfe]).unwrap();
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: nginx\n    secrets: [tls_key]\n    configs:\n      \
         - {source: site, target: /etc/nginx/conf.d/site.conf}\nsecrets:\n  tls_key:\n    \
         file: ./key.bin\nconfigs:\n  site:\n    content: 'server {}'\n",
    )
    .unwrap();
    let yaml = convert::kubernetes(&load_dir(dir.path()), &Options::default())
        .unwrap()
        .to_yaml()
        .unwrap();
    for expected in [
        "kind: Secret\ndata:\n  key.bin: //4=",
        "kind: ConfigMap\ndata:\n  site: server {}",
        "- mountPath: /run/secrets/tls_key\n          name: secret-tls-key\n          readOnly: true\n          subPath: key.bin",
        "- mountPath: /etc/nginx/conf.d/site.conf\n          name: config-site",
    ] {
        assert!(yaml.contains(expected), "{expected}\n{yaml}");
    }
    let file = dir.path().join("out.yaml");
    std::fs::write(&file, yaml).unwrap();
    validate(&[file]).unwrap();
}

#[test]
fn marks_that_mark_nothing_are_named() {
    let (_dir, loaded) = load(
        "services:\n  web:\n    image: nginx\n    environment: {A: a-value}\n    x-kubernetes:\n      \
         secret-env: [A]\n  db:\n    image: postgres\n    x-kubernetes:\n      \
         secret-environment: A\n",
    );
    let options = Options {
        secret_env: vec!["TYPO".into()],
        ..Options::default()
    };
    let conversion = convert::kubernetes(&loaded, &options).unwrap();
    assert!(warned(
        &conversion,
        "--secret-env TYPO: no service has this variable"
    ));
    assert!(warned(
        &conversion,
        "services.web.x-kubernetes.secret-env is not read"
    ));
    assert!(warned(
        &conversion,
        "services.db.x-kubernetes.secret-environment is not a list of variable names"
    ));
}

#[test]
fn an_external_secret_is_used_by_name_and_left_to_the_user() {
    let (_dir, loaded) = load(
        "services:\n  web:\n    image: nginx\n    secrets: [tls]\nsecrets:\n  tls:\n    \
         external: true\n    name: site_tls\n",
    );
    let conversion = convert::kubernetes(&loaded, &Options::default()).unwrap();
    assert!(warned(
        &conversion,
        "secrets.tls is external: the pods expect a Secret named site-tls"
    ));
    assert!(conversion.objects.iter().all(|o| o.kind() != "Secret"));
    assert!(conversion
        .to_yaml()
        .unwrap()
        .contains("secretName: site-tls"));
    let problems = check::all(&conversion.objects, &BTreeSet::new());
    assert_eq!(
        problems,
        ["Deployment web: uses Secret site-tls, which is not made"]
    );
}
