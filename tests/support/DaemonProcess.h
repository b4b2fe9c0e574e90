#pragma once

#include "TempDir.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <sys/resource.h>
#include <sys/types.h>
#include <vector>

namespace peerchat::test {

/// A real daemon (build/bin/PROGRAM) run for a test: its stdout and stderr go
/// to a log file; it is always killed and reaped when the object goes away.
/// Unless env says otherwise, XDG_DATA_HOME and XDG_CONFIG_HOME are private
/// directories of this object, so a daemon's default database and key file
/// never land in the home directory nor in another test's; a test that
/// restarts a daemon on the same database or identity passes the paths
/// (--database, --key) itself.
class DaemonProcess
{
public:
    using Fields = std::map<std::string, std::string>;

    /// program is a name in the build's bin directory ("indexd", "peerd") or a path.
    DaemonProcess(std::string program, std::vector<std::string> args, std::map<std::string, std::string> env = {});
    ~DaemonProcess();
    DaemonProcess(const DaemonProcess&) = delete;
    DaemonProcess& operator=(const DaemonProcess&) = delete;

    /// Lowers the program's RLIMIT_NOFILE to soft and hard (the number of
    /// file descriptors it may hold), as `prlimit --nofile=SOFT:HARD` would:
    /// before start(), it starts with them; while it runs, at once (the
    /// daemon raised its soft limit to its hard one at start, so this is how
    /// a test lowers it afterwards). hard must not be above this process's own.
    void limitOpenFiles(rlim_t soft, rlim_t hard);

    /// Runs the program under a command that takes a program and its
    /// arguments ({"ip", "netns", "exec", "pub"}), looked up in PATH; call
    /// before start(). The prefix must exec the program in place, so pid()
    /// stays the program's.
    void setCommandPrefix(std::vector<std::string> prefix) { _prefix = std::move(prefix); }

    /// Starts the process; throws when it cannot be started.
    void start();

    /// Waits for the daemon's readiness line ("... ready key=value key=value")
    /// and returns its fields (indexd's: udp, the roster ports, identity = its
    /// public key in base64, which peerd takes as --index-key). Fails the test
    /// (CPPUNIT) on timeout or early exit, printing the log.
    Fields waitReady(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// True when needle appears in the log before timeout.
    bool waitForLog(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(10));
    /// How many times needle appears in the log so far.
    std::size_t countInLog(const std::string& needle) const;
    std::string log() const;

    pid_t pid() const { return _pid; }
    /// The XDG_CONFIG_HOME the daemon gets unless env names another: its
    /// default key file is configHome() + "/peerchat/NAME.key".
    std::string configHome() const { return _dir.file("config"); }
    /// The XDG_DATA_HOME the daemon gets unless env names another.
    std::string dataHome() const { return _dir.file("data"); }
    /// The resident set size of the running process in KiB (VmRSS of
    /// /proc/PID/status); fails the test when it cannot be read.
    std::size_t residentKiB() const;
    /// The most resident memory the process has had so far in KiB (VmHWM of
    /// /proc/PID/status); fails the test when it cannot be read.
    std::size_t peakResidentKiB() const;
    struct CpuTimes
    {
        std::chrono::milliseconds user{0};
        std::chrono::milliseconds system{0};  ///< in the kernel, on the process's behalf
    };
    /// The CPU time the running process has used so far, from
    /// /proc/PID/stat; fails the test when it cannot be read.
    CpuTimes cpuTimes() const;
    /// cpuTimes(), user and system together.
    std::chrono::milliseconds cpuTime() const;
    bool running();
    void signal(int sig);
    /// Stops the process (SIGSTOP) and waits until it is stopped, which a
    /// signal alone does not promise; signal(SIGCONT) lets it go on. Fails the
    /// test when it does not stop in time.
    void freeze();
    /// Waits for the process to exit; returns its exit code, or 128+signal when
    /// killed by a signal, or -1 when it did not exit in time (it is then killed).
    int waitExit(std::chrono::milliseconds timeout = std::chrono::seconds(10));

    /// The full path of a program in the build's bin directory, or in
    /// $PEERCHAT_DAEMON_DIR when set (a benchmark comparing two builds).
    static std::string binary(const std::string& name);

private:
    /// The value in KiB of field ("VmRSS:") in /proc/PID/status.
    std::size_t statusKiB(const std::string& field) const;

    std::string _program;
    std::vector<std::string> _args;
    std::vector<std::string> _prefix;
    std::map<std::string, std::string> _env;
    std::optional<rlimit> _openFiles;
    TempDir _dir;
    std::string _logPath;
    pid_t _pid = -1;
    int _status = 0;
    bool _reaped = false;
};

} // namespace peerchat::test
