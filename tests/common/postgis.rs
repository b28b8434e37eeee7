//! A real PostgreSQL + PostGIS for the tests: `TESSERA_TEST_DATABASE_URL` when given (a
//! superuser's URL), else a throwaway cluster this harness starts from Debian's PostgreSQL
//! binaries (initdb + pg_ctl, a free port, a temporary folder, fsync off), once per test
//! binary and stopped when it ends. Each test gets a database of its own. Without PostgreSQL
//! and PostGIS installed, the tests fail and say how to get them.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub struct Cluster {
    /// `postgresql://user@host:port` with no database.
    pub base_url: String,
    host: String,
    pub port: u16,
    user: String,
    /// Set when this harness started the cluster (stopped at exit).
    data: Option<PathBuf>,
    /// How it was started (`pg_ctl -o`) and where it logs, to start it again.
    options: String,
    log: PathBuf,
}

/// The installed PostgreSQL's `bin` folder (the newest).
fn pg_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run the test suite with `bash tests/run-all.sh`, which installs postgresql-15-postgis-3, or set TESSERA_TEST_DATABASE_URL"
        )
    })
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// A PostgreSQL tool, run as the `postgres` user when we are root (initdb refuses root).
fn pg_command(tool: &Path, args: &[&str]) -> Command {
    let mut c = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(tool);
        c
    } else {
        Command::new(tool)
    };
    c.args(args);
    c
}

/// Runs a PostgreSQL tool; it must succeed.
fn run_pg(tool: &Path, args: &[&str]) {
    let out = pg_command(tool, args)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", tool.display()));
    assert!(
        out.status.success(),
        "{} {args:?} failed:\n{}{}",
        tool.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Cluster {
    fn start() -> Cluster {
        if let Ok(url) = std::env::var("TESSERA_TEST_DATABASE_URL") {
            return Self::given(&url);
        }
        Self::own("shared")
    }

    /// The server at a superuser's `postgresql://user@host:port` URL.
    fn given(url: &str) -> Cluster {
        let u = url.trim_end_matches('/').to_string();
        let rest = u.strip_prefix("postgresql://").unwrap_or(&u);
        let (user, hostport) = rest.split_once('@').unwrap_or(("postgres", rest));
        let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
        Cluster {
            base_url: u.clone(),
            host: host.to_string(),
            port: port.parse().unwrap(),
            user: user.split(':').next().unwrap().to_string(),
            data: None,
            options: String::new(),
            log: PathBuf::new(),
        }
    }

    /// A cluster of the caller's own, always started here (a test that stops and starts its
    /// database must not disturb the others); stopped when dropped.
    pub fn own(tag: &str) -> Cluster {
        Self::own_configured(tag, false)
    }

    /// A cluster of the caller's own that takes TCP connections only over TLS, with a
    /// certificate for `localhost` (not for 127.0.0.1) signed by the CA in `tls_ca()`.
    pub fn own_tls(tag: &str) -> Cluster {
        Self::own_configured(tag, true)
    }

    /// The folder holding `ca.pem` (the CA of an [`Cluster::own_tls`] cluster) and
    /// `other-ca.pem` (a CA that signed nothing).
    pub fn tls_dir(&self) -> PathBuf {
        self.log.parent().unwrap().join("tls")
    }

    fn own_configured(tag: &str, tls: bool) -> Cluster {
        let bin = pg_bin();
        let dir = std::env::temp_dir().join(format!("tessera-pg-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let ok = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(ok.success(), "chown of {}", dir.display());
        }
        let data = dir.join("data");
        let d = data.to_str().unwrap();
        run_pg(
            &bin.join("initdb"),
            &["-D", d, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        let port = super::free_port();
        let mut options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            dir.display()
        );
        if tls {
            let certs = dir.join("tls");
            make_certificates(&certs);
            options += &format!(
                " -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
                certs.join("server.pem").display(),
                certs.join("server.key").display()
            );
            std::fs::write(
                data.join("pg_hba.conf"),
                "local all all trust\nhostssl all all 127.0.0.1/32 trust\nhostnossl all all 127.0.0.1/32 reject\n",
            )
            .unwrap();
        }
        let c = Cluster {
            base_url: format!("postgresql://postgres@127.0.0.1:{port}"),
            host: "127.0.0.1".into(),
            port,
            user: "postgres".into(),
            data: Some(data),
            options,
            log: dir.join("postgres.log"),
        };
        c.resume();
        c.psql("postgres", "select 1");
        c
    }

    /// Starts the cluster this harness made (again, after [`Cluster::pause`]).
    pub fn resume(&self) {
        let data = self.data.as_ref().expect("a cluster started here");
        run_pg(
            &pg_bin().join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-o",
                &self.options,
                "-l",
                self.log.to_str().unwrap(),
                "-w",
                "start",
            ],
        );
    }

    /// Stops the server (fast: connections are cut), keeping its data.
    pub fn pause(&self) {
        let data = self.data.as_ref().expect("a cluster started here");
        run_pg(
            &pg_bin().join("pg_ctl"),
            &["-D", data.to_str().unwrap(), "-m", "fast", "-w", "stop"],
        );
    }

    /// Runs SQL in database `db` with psql, stopping at the first error; its output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        self.try_psql(db, sql)
            .unwrap_or_else(|e| panic!("psql {sql}: {e}"))
    }

    /// Runs SQL in database `db` with psql: its output, or the error PostgreSQL gave.
    pub fn try_psql(&self, db: &str, sql: &str) -> Result<String, String> {
        let out = Command::new("psql")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                &self.host,
                "-p",
                &self.port.to_string(),
                "-U",
                &self.user,
            ])
            .args(["-d", db, "-c", sql])
            .output()
            .expect("psql (postgresql-client) is installed");
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// A new, empty database with PostGIS; its URL.
    pub fn database(&self, name: &str) -> String {
        let db = format!("{name}_{}", std::process::id());
        self.psql("postgres", &format!("drop database if exists {db}"));
        self.psql("postgres", &format!("create database {db}"));
        let has = self.psql(
            &db,
            "select count(*) from pg_available_extensions where name = 'postgis'",
        );
        assert_eq!(
            has, "1",
            "PostGIS is not installed: run the test suite with `bash tests/run-all.sh`, which installs postgresql-15-postgis-3"
        );
        self.psql(&db, "create extension postgis");
        format!("{}/{db}", self.base_url)
    }

    /// Loads a file GDAL reads into table `table` of `url`'s database (ogr2ogr), with an
    /// integer key `id` and a geometry column `geom`, in `srid` (the file's CRS when `None`).
    pub fn load(&self, url: &str, file: &Path, table: &str, srid: Option<u32>) {
        let db = url.rsplit('/').next().unwrap();
        let pg = format!(
            "PG:host={} port={} user={} dbname={db}",
            self.host, self.port, self.user
        );
        let mut cmd = Command::new(super::require_tool("ogr2ogr"));
        cmd.args(["-f", "PostgreSQL", &pg])
            .arg(file)
            .args([
                "-nln",
                table,
                "-lco",
                "GEOMETRY_NAME=geom",
                "-lco",
                "FID=id",
            ])
            .args(["-nlt", "PROMOTE_TO_MULTI", "-overwrite"]);
        if let Some(s) = srid {
            cmd.args(["-t_srs", &format!("EPSG:{s}")]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "ogr2ogr {}: {}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A CA, a server certificate it signed for `localhost` only, and another CA, made with
/// openssl in `dir`; the server's key readable by the postgres user alone.
fn make_certificates(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed (PostgreSQL's package depends on it)");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    for ca in ["ca", "other-ca"] {
        let (key, pem) = (format!("{ca}.key"), format!("{ca}.pem"));
        let subject = format!("/CN=tessera test {ca}");
        let mut args = vec!["req", "-x509", "-days", "3", "-subj", &subject];
        args.extend(ec);
        args.extend(["-keyout", &key, "-out", &pem]);
        args.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
        args.extend(["-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
        openssl(&args);
    }
    let mut args = vec!["req", "-subj", "/CN=localhost"];
    args.extend(ec);
    args.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl(&args);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "3",
        "-extfile",
        "server.ext",
        "-out",
        "server.pem",
    ]);
    let key = dir.join("server.key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(dir)
            .status()
            .unwrap();
        assert!(ok.success(), "chown of {}", dir.display());
    }
}

impl Cluster {
    /// Stops a cluster this harness started (nothing for a given URL).
    fn stop(&self) {
        if let Some(data) = &self.data {
            let args = ["-D", data.to_str().unwrap(), "-m", "immediate", "stop"];
            let _ = pg_command(&pg_bin().join("pg_ctl"), &args).output();
            if let Some(dir) = data.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// The test binary's cluster, started on first use and stopped when the process exits
/// (statics are never dropped).
pub fn cluster() -> &'static Cluster {
    extern "C" fn stop_at_exit() {
        if let Some(c) = CLUSTER.get() {
            c.stop();
        }
    }
    CLUSTER.get_or_init(|| {
        let c = Cluster::start();
        // SAFETY: registers a plain function with no arguments, as atexit wants.
        unsafe { libc::atexit(stop_at_exit) };
        c
    })
}
