#pragma once

#include "DaemonProcess.h"

#include <cstdint>
#include <string>

namespace peerchat::stress {

/// Figures of one running daemon, read from /proc and from its log file (the
/// file DaemonProcess points its stdout at): the log's size, resident set,
/// CPU time; with sample() called now and then, the peak resident set.
class DaemonWatch
{
public:
    /// Watches daemon, which must be running.
    explicit DaemonWatch(test::DaemonProcess& daemon);

    /// The log's size in bytes now.
    std::uint64_t logBytes() const;
    /// Lines of the log holding needle, read in pieces (a flooded log can be hundreds of MB).
    std::size_t countInLog(const std::string& needle) const;
    /// The first line of the log holding needle after byte offset from; empty when none.
    std::string firstLogLine(const std::string& needle, std::uint64_t from = 0) const;
    /// VmRSS in KiB; 0 once the process is gone.
    std::size_t residentKiB() const;
    /// User and system CPU seconds the process has used.
    double cpuSeconds() const;
    /// Takes the resident set into the peak.
    void sample();
    /// The largest resident set sample() saw, in KiB.
    std::size_t peakKiB() const { return _peakKiB; }

    /// Datagrams the kernel dropped at the UDP socket bound to port (its
    /// buffer was full): the drops column of /proc/net/udp.
    static std::uint64_t udpDrops(int port);

private:
    test::DaemonProcess& _daemon;
    std::string _logPath;
    std::size_t _peakKiB = 0;
};

} // namespace peerchat::stress
