#include "DaemonWatch.h"

#include <algorithm>
#include <climits>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>
#include <unistd.h>

namespace peerchat::stress {

DaemonWatch::DaemonWatch(test::DaemonProcess& daemon) : _daemon(daemon)
{
    // DaemonProcess sends stdout and stderr to the log; /proc names the file.
    char path[PATH_MAX];
    const std::string fd = "/proc/" + std::to_string(daemon.pid()) + "/fd/1";
    const ssize_t n = ::readlink(fd.c_str(), path, sizeof path - 1);
    if (n <= 0) throw std::runtime_error("cannot find the log of pid " + std::to_string(daemon.pid()) + " in " + fd);
    _logPath.assign(path, static_cast<std::size_t>(n));
    sample();
}

std::uint64_t DaemonWatch::logBytes() const
{
    struct stat info{};
    return ::stat(_logPath.c_str(), &info) == 0 ? static_cast<std::uint64_t>(info.st_size) : 0;
}

std::size_t DaemonWatch::countInLog(const std::string& needle) const
{
    std::ifstream log(_logPath);
    std::size_t count = 0;
    for (std::string line; std::getline(log, line);) count += line.find(needle) != std::string::npos;
    return count;
}

std::string DaemonWatch::firstLogLine(const std::string& needle, std::uint64_t from) const
{
    std::ifstream log(_logPath);
    log.seekg(static_cast<std::streamoff>(from));
    for (std::string line; std::getline(log, line);) {
        if (line.find(needle) != std::string::npos) return line;
    }
    return {};
}

std::size_t DaemonWatch::residentKiB() const
{
    return _daemon.running() ? _daemon.residentKiB() : 0;
}

double DaemonWatch::cpuSeconds() const
{
    // Fields 14 and 15 of /proc/PID/stat, counted after the ')' that ends the command name.
    std::ifstream stat("/proc/" + std::to_string(_daemon.pid()) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    if (paren == std::string::npos) return 0;
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    unsigned long long user = 0;
    unsigned long long system = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
        if (i == 14) user = std::stoull(field);
        if (i == 15) system = std::stoull(field);
    }
    return static_cast<double>(user + system) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

void DaemonWatch::sample()
{
    _peakKiB = std::max(_peakKiB, residentKiB());
}

std::uint64_t DaemonWatch::udpDrops(int port)
{
    std::ifstream table("/proc/net/udp");
    std::string line;
    std::getline(table, line);
    std::uint64_t drops = 0;
    while (std::getline(table, line)) {
        // "sl local_address rem_address st ... drops": local_address is ADDRESS:PORT in hex.
        std::istringstream fields(line);
        std::string slot, local, field;
        fields >> slot >> local;
        if (std::stoi(local.substr(local.find(':') + 1), nullptr, 16) != port) continue;
        while (fields >> field) {
        }
        drops += std::stoull(field);
    }
    return drops;
}

} // namespace peerchat::stress
