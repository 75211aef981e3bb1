//! A throwaway PostgreSQL cluster made with the machine's own `initdb` and
//! `pg_ctl`, on a free loopback port, removed again at the end. When run as
//! root (which `initdb` refuses), the cluster is made and run as the
//! `postgres` system user.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use anyhow::{Context as _, bail};

/// A running throwaway cluster; stopped and deleted on [`LocalCluster::stop`]
/// or, failing that, on drop.
pub struct LocalCluster {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    as_postgres: bool,
    durable: bool,
    stopped: bool,
}

/// Where `initdb` and `pg_ctl` live: `$PG_BIN`, then `PATH`, then the
/// newest `/usr/lib/postgresql/*/bin`.
fn find_bin() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH")
        && let Some(dir) = std::env::split_paths(&path)
            .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
    {
        return Ok(dir);
    }
    let mut candidates: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, bin)| bin).context(
        "no PostgreSQL server binaries found (initdb, pg_ctl): install PostgreSQL, set PG_BIN, \
         or point DATABASE_URL at a running server",
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl LocalCluster {
    /// Creates and starts a cluster with trust auth for user `postgres`,
    /// tuned for the demo's speed: a commit is acknowledged before its WAL
    /// is written (`synchronous_commit=off`), so an immediate shutdown may
    /// lose the last ones.
    pub fn start() -> anyhow::Result<Self> {
        Self::start_with(false)
    }

    /// [`Self::start`] with every acknowledged commit kept through an
    /// immediate shutdown (`synchronous_commit=on`), for tests that stop the
    /// server under load.
    pub fn start_durable() -> anyhow::Result<Self> {
        Self::start_with(true)
    }

    fn start_with(durable: bool) -> anyhow::Result<Self> {
        let bin = find_bin()?;
        static MADE: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "growth-demo-pg-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        ));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("removing stale {}", dir.display()))?;
        }
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let as_postgres = is_root();
        if as_postgres {
            run(
                Command::new("chown").arg("postgres:").arg(&dir),
                "chown the data directory to postgres",
            )?;
        }
        let cluster = Self {
            bin,
            dir,
            port: free_port()?,
            as_postgres,
            durable,
            stopped: false,
        };
        let data = cluster.dir.join("data");
        cluster.pg(
            "initdb",
            &[
                "-D",
                path(&data)?,
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-instructions",
            ],
        )?;
        cluster.pg_ctl("start", None)?;
        Ok(cluster)
    }

    /// Runs `pg_ctl <action>` (start, stop, restart) on the cluster, with
    /// shutdown `mode` (smart, fast, immediate) where it applies, waiting
    /// until it is done.
    fn pg_ctl(&self, action: &str, mode: Option<&str>) -> anyhow::Result<()> {
        // fsync=off survives a server stop of any mode (the operating system
        // keeps the files); only a machine crash would need it.
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c synchronous_commit={}",
            self.port,
            path(&self.dir)?,
            if self.durable { "on" } else { "off" }
        );
        let data = self.dir.join("data");
        let log = self.dir.join("postgres.log");
        let mut args = vec!["-D", path(&data)?, "-l", path(&log)?, "-o", &options];
        if let Some(mode) = mode {
            args.extend(["-m", mode]);
        }
        args.extend(["-w", "-t", "60", action]);
        self.pg("pg_ctl", &args)
    }

    /// Restarts the server, shut down in `mode` (`fast`: connections are
    /// closed and the server shuts down cleanly; `immediate`: it stops at
    /// once and recovers from its log when it starts again).
    pub fn restart(&self, mode: &str) -> anyhow::Result<()> {
        self.pg_ctl("restart", Some(mode))
    }

    /// Stops the server (in `mode`), keeping its files for [`Self::resume`].
    pub fn pause(&self, mode: &str) -> anyhow::Result<()> {
        self.pg_ctl("stop", Some(mode))
    }

    /// Starts the server again after [`Self::pause`].
    pub fn resume(&self) -> anyhow::Result<()> {
        self.pg_ctl("start", None)
    }

    /// The connection URL.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The data directory's parent, for messages.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Stops the server and deletes its files.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> anyhow::Result<()> {
        if self.stopped {
            return Ok(());
        }
        self.stopped = true;
        let result = self.pg_ctl("stop", Some("fast"));
        std::fs::remove_dir_all(&self.dir)
            .with_context(|| format!("removing {}", self.dir.display()))?;
        result
    }

    fn pg(&self, tool: &str, args: &[&str]) -> anyhow::Result<()> {
        let program = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&program);
            c
        } else {
            Command::new(&program)
        };
        command.args(args).current_dir(&self.dir);
        run(&mut command, tool)
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if let Err(e) = self.shutdown() {
            eprintln!("warning: could not remove the demo database cleanly: {e:#}");
        }
    }
}

fn path(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not valid UTF-8", p.display()))
}

fn run(command: &mut Command, what: &str) -> anyhow::Result<()> {
    let output = command
        .output()
        .with_context(|| format!("cannot run {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim(),
            String::from_utf8_lossy(&output.stdout).trim()
        );
    }
    Ok(())
}
