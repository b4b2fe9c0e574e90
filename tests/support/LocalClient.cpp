#include "LocalClient.h"
#include "Wait.h"

#include <Poco/JSON/Parser.h>
#include <Poco/Net/SocketAddress.h>

namespace peerchat::test {

LocalClient::LocalClient(const std::string& path) : _socket(Poco::Net::SocketAddress::UNIX_LOCAL)
{
    // A listener that stopped accepting leaves connect() waiting for room in
    // its backlog, for ever unless a send timeout bounds the wait.
    _socket.setSendTimeout(Poco::Timespan(10, 0));
    _socket.connect(Poco::Net::SocketAddress(Poco::Net::SocketAddress::UNIX_LOCAL, path));
    _socket.setSendTimeout(Poco::Timespan(0));
}

void LocalClient::sendLine(const std::string& json)
{
    const std::string line = json + "\n";
    _socket.sendBytes(line.data(), static_cast<int>(line.size()));
}

bool LocalClient::readMore(std::chrono::milliseconds timeout)
{
    if (_closed) return false;
    const Poco::Timespan wait(static_cast<Poco::Timespan::TimeDiff>(timeout.count()) * 1000);
    if (!_socket.poll(wait, Poco::Net::Socket::SELECT_READ)) return false;
    char buffer[65536];
    int n = 0;
    try {
        n = _socket.receiveBytes(buffer, sizeof buffer);
    } catch (const Poco::Exception&) {
        n = 0;
    }
    if (n <= 0) {
        _closed = true;
        return false;
    }
    _buffer.append(buffer, static_cast<std::size_t>(n));
    for (auto nl = _buffer.find('\n'); nl != std::string::npos; nl = _buffer.find('\n')) {
        const std::string line = _buffer.substr(0, nl);
        _buffer.erase(0, nl + 1);
        Poco::JSON::Parser parser;
        _pending.push_back(parser.parse(line).extract<Object>());
    }
    return true;
}

LocalClient::Object LocalClient::waitFor(const Predicate& predicate, std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        for (auto it = _pending.begin(); it != _pending.end(); ++it) {
            if (predicate(*it)) {
                Object found = *it;
                _pending.erase(it);
                return found;
            }
        }
        const auto left = timeLeft(deadline);
        if (left.count() <= 0) return nullptr;
        if (!readMore(left) && _closed) return nullptr;
    }
}

LocalClient::Object LocalClient::waitEvent(const std::string& name, std::chrono::milliseconds timeout)
{
    return waitFor([&](const Object& o) { return o->optValue<std::string>("event", "") == name; }, timeout);
}

bool LocalClient::waitClosed(std::chrono::milliseconds timeout)
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!_closed) {
        const auto left = timeLeft(deadline);
        if (left.count() <= 0) return false;
        readMore(left);
    }
    return true;
}

} // namespace peerchat::test
