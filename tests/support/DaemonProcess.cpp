#include "DaemonProcess.h"

#include "Wait.h"

#include <cppunit/extensions/HelperMacros.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace peerchat::test {

DaemonProcess::DaemonProcess(std::string program, std::vector<std::string> args, std::map<std::string, std::string> env)
    : _program(std::move(program)), _args(std::move(args)), _env(std::move(env)), _logPath(_dir.file("output.log"))
{
    for (const std::string& home : {configHome(), dataHome()}) {
        if (::mkdir(home.c_str(), 0700) != 0) throw std::runtime_error("cannot create " + home);
    }
}

DaemonProcess::~DaemonProcess()
{
    if (_pid > 0 && !_reaped) {
        ::kill(_pid, SIGKILL);
        ::waitpid(_pid, &_status, 0);
    }
}

std::string DaemonProcess::binary(const std::string& name)
{
    if (name.find('/') != std::string::npos) return name;
    // Another build's daemons, for a benchmark that compares two builds.
    const char* other = std::getenv("PEERCHAT_DAEMON_DIR");
    return std::string(other != nullptr && *other != '\0' ? other : PEERCHAT_BIN_DIR) + "/" + name;
}

void DaemonProcess::limitOpenFiles(rlim_t soft, rlim_t hard)
{
    _openFiles = rlimit{soft, hard};
    if (_pid > 0 && !_reaped && ::prlimit(_pid, RLIMIT_NOFILE, &*_openFiles, nullptr) != 0)
        throw std::runtime_error("cannot lower the open-file limit of " + _program + ": " + std::strerror(errno));
}

void DaemonProcess::start()
{
    const std::string path = binary(_program);
    std::vector<std::string> argv = _prefix;
    argv.push_back(path);
    argv.insert(argv.end(), _args.begin(), _args.end());

    const int log = ::open(_logPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (log < 0) throw std::runtime_error("cannot create " + _logPath);

    const pid_t parent = ::getpid();
    _pid = ::fork();
    if (_pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    if (_pid == 0) {
        // The daemon goes when the test that started it does, whatever ends
        // the test (a crash, ctest's timeout): in a process group of its own,
        // nothing else would stop it, and a stray daemon takes a processor
        // from the tests that follow. (A test that died before this line: the same.)
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent) ::_exit(127);
        ::dup2(log, STDOUT_FILENO);
        ::dup2(log, STDERR_FILENO);
        const int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0) ::dup2(null, STDIN_FILENO);
        ::setpgid(0, 0);
        if (_openFiles && ::setrlimit(RLIMIT_NOFILE, &*_openFiles) != 0) {
            std::fprintf(stderr, "setrlimit RLIMIT_NOFILE: %s\n", std::strerror(errno));
            ::_exit(127);
        }
        ::setenv("XDG_DATA_HOME", dataHome().c_str(), 1);
        ::setenv("XDG_CONFIG_HOME", configHome().c_str(), 1);
        for (const auto& [key, value] : _env) ::setenv(key.c_str(), value.c_str(), 1);
        std::vector<char*> raw;
        for (auto& a : argv) raw.push_back(a.data());
        raw.push_back(nullptr);
        ::execvp(argv.front().c_str(), raw.data());
        std::fprintf(stderr, "exec %s: %s\n", argv.front().c_str(), std::strerror(errno));
        ::_exit(127);
    }
    ::close(log);
    _reaped = false;
}

std::string DaemonProcess::log() const
{
    std::ifstream in(_logPath);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::size_t DaemonProcess::countInLog(const std::string& needle) const
{
    const std::string text = log();
    std::size_t count = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
    return count;
}

std::size_t DaemonProcess::residentKiB() const
{
    return statusKiB("VmRSS:");
}

std::size_t DaemonProcess::peakResidentKiB() const
{
    return statusKiB("VmHWM:");
}

std::size_t DaemonProcess::statusKiB(const std::string& field) const
{
    std::ifstream status("/proc/" + std::to_string(_pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind(field, 0) == 0) return std::stoul(line.substr(field.size()));
    }
    CPPUNIT_FAIL("no " + field + " in /proc/" + std::to_string(_pid) + "/status: is " + _program + " running?");
    return 0;
}

std::chrono::milliseconds DaemonProcess::cpuTime() const
{
    const CpuTimes times = cpuTimes();
    return times.user + times.system;
}

DaemonProcess::CpuTimes DaemonProcess::cpuTimes() const
{
    std::ifstream stat("/proc/" + std::to_string(_pid) + "/stat");
    std::string text;
    std::getline(stat, text);
    // The command name in parentheses may hold spaces: count the fields after it.
    const auto end = text.rfind(')');
    if (end == std::string::npos) {
        CPPUNIT_FAIL("cannot read /proc/" + std::to_string(_pid) + "/stat: is " + _program + " running?");
    }
    std::istringstream fields(text.substr(end + 1));
    std::string field;
    // After the name: state (field 3) ... utime (14), stime (15).
    for (int i = 3; i < 14; ++i) fields >> field;
    unsigned long long user = 0;
    unsigned long long system = 0;
    fields >> user >> system;
    if (!fields) CPPUNIT_FAIL("no CPU times in /proc/" + std::to_string(_pid) + "/stat: " + text);
    const auto ticks = static_cast<unsigned long long>(::sysconf(_SC_CLK_TCK));
    return CpuTimes{std::chrono::milliseconds(user * 1000 / ticks), std::chrono::milliseconds(system * 1000 / ticks)};
}

bool DaemonProcess::running()
{
    if (_pid <= 0 || _reaped) return false;
    const pid_t r = ::waitpid(_pid, &_status, WNOHANG);
    if (r == _pid) {
        _reaped = true;
        return false;
    }
    return true;
}

DaemonProcess::Fields DaemonProcess::waitReady(std::chrono::milliseconds timeout)
{
    const std::string marker = _program.substr(_program.rfind('/') + 1) + " ready ";
    std::string line;
    const bool ready = waitUntil([&] {
        const std::string text = log();
        const auto at = text.find(marker);
        if (at != std::string::npos) {
            const auto end = text.find('\n', at);
            if (end == std::string::npos) return false;
            line = text.substr(at + marker.size(), end - at - marker.size());
            return true;
        }
        return !running();
    }, timeout);
    if (!ready || line.empty()) {
        CPPUNIT_FAIL(_program + " did not become ready" + (running() ? " in time" : " (it exited)") + "; its log:\n"
                     + log());
    }
    Fields fields;
    std::istringstream words(line);
    std::string word;
    while (words >> word) {
        const auto eq = word.find('=');
        if (eq != std::string::npos) fields[word.substr(0, eq)] = word.substr(eq + 1);
    }
    return fields;
}

bool DaemonProcess::waitForLog(const std::string& needle, std::chrono::milliseconds timeout)
{
    return waitUntil([&] { return log().find(needle) != std::string::npos; }, timeout);
}

void DaemonProcess::signal(int sig)
{
    if (_pid > 0 && !_reaped) ::kill(_pid, sig);
}

void DaemonProcess::freeze()
{
    signal(SIGSTOP);
    // The state is the field after the command name, which is in parentheses and may hold anything.
    const bool stopped = waitUntil([&] {
        std::ifstream stat("/proc/" + std::to_string(_pid) + "/stat");
        const std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const std::size_t end = text.rfind(") ");
        return end != std::string::npos && end + 2 < text.size() && text[end + 2] == 'T';
    });
    CPPUNIT_ASSERT_MESSAGE(_program + " did not stop", stopped);
}

int DaemonProcess::waitExit(std::chrono::milliseconds timeout)
{
    if (_pid <= 0) return -1;
    if (!waitUntil([&] { return !running(); }, timeout)) {
        ::kill(_pid, SIGKILL);
        ::waitpid(_pid, &_status, 0);
        _reaped = true;
        return -1;
    }
    if (WIFEXITED(_status)) return WEXITSTATUS(_status);
    if (WIFSIGNALED(_status)) return 128 + WTERMSIG(_status);
    return -1;
}

} // namespace peerchat::test
