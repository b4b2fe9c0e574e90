#include "NetworkNamespace.h"

#include <Poco/Pipe.h>
#include <Poco/PipeStream.h>
#include <Poco/Process.h>
#include <Poco/StreamCopier.h>
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace peerchat::test {

NetworkNamespace::NetworkNamespace()
{
    if (::geteuid() != 0) {
        CPPUNIT_FAIL("this test makes a network namespace with ip netns, which only root may do; "
                     "run it as root (CI does)");
    }
    static std::atomic<int> made{0};
    _name = "peerchat-test-" + std::to_string(::getpid()) + "-" + std::to_string(made++);
    ip({"netns", "add", _name});
    ip({"-n", _name, "link", "set", "lo", "up"});
}

NetworkNamespace::~NetworkNamespace()
{
    try {
        ip({"netns", "delete", _name});
    } catch (...) {
        // A failure was reported by the test already; nothing else can be done here.
    }
}

std::vector<std::string> NetworkNamespace::commandPrefix() const
{
    return {"ip", "netns", "exec", _name};
}

Poco::Net::DatagramSocket NetworkNamespace::udpSocket(const Poco::Net::SocketAddress& address) const
{
    Poco::Net::DatagramSocket socket;
    std::string error;
    std::thread([&] {
        const int fd = ::open(("/run/netns/" + _name).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
            error = std::string("cannot enter network namespace ") + _name + ": " + std::strerror(errno);
            if (fd >= 0) ::close(fd);
            return;
        }
        ::close(fd);
        try {
            socket = Poco::Net::DatagramSocket(address);
        } catch (const Poco::Exception& e) {
            error = "cannot bind " + address.toString() + " in " + _name + ": " + e.displayText();
        }
    }).join();
    if (!error.empty()) throw std::runtime_error(error);
    return socket;
}

void NetworkNamespace::ip(const std::vector<std::string>& args)
{
    Poco::Pipe output;
    Poco::ProcessHandle process = Poco::Process::launch("ip", args, nullptr, &output, &output);
    Poco::PipeInputStream stream(output);
    std::string text;
    Poco::StreamCopier::copyToString(stream, text);
    if (const int status = process.wait(); status != 0) {
        std::string command = "ip";
        for (const std::string& arg : args) command += " " + arg;
        CPPUNIT_FAIL(command + " failed (" + std::to_string(status) + "): " + text);
    }
}

} // namespace peerchat::test
