#pragma once

#include <Poco/Net/DatagramSocket.h>
#include <Poco/Net/SocketAddress.h>

#include <string>
#include <vector>

namespace peerchat::test {

/// A private network namespace for a test (`ip netns add`), with its own
/// loopback up and nothing else, deleted when the object goes away (a daemon
/// still in it keeps it until it exits: declare the daemon after this). Needs
/// root, which CI has; fails the test saying so otherwise.
class NetworkNamespace
{
public:
    NetworkNamespace();
    ~NetworkNamespace();
    NetworkNamespace(const NetworkNamespace&) = delete;
    NetworkNamespace& operator=(const NetworkNamespace&) = delete;

    const std::string& name() const { return _name; }
    /// {"ip", "netns", "exec", name()}: what DaemonProcess::setCommandPrefix takes.
    std::vector<std::string> commandPrefix() const;
    /// A UDP socket bound to address inside the namespace. A socket stays in
    /// the namespace it was made in, so it is made on a thread that enters the
    /// namespace and then used from any.
    Poco::Net::DatagramSocket udpSocket(const Poco::Net::SocketAddress& address) const;

private:
    static void ip(const std::vector<std::string>& args);

    std::string _name;
};

} // namespace peerchat::test
