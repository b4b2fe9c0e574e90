#include "CrowdIndexd.h"

#include "Base64.h"

#include <stdexcept>
#include <utility>

namespace peerchat::bench {

CrowdIndexd::CrowdIndexd(std::vector<std::string> extraFlags)
{
    std::vector<std::string> args{"--port", "0", "--bind", "127.0.0.1", "--database", _dir.file("indexd.db"),
                                  "--key", _dir.file("indexd.key"), "--login-rate", "1000000"};
    args.insert(args.end(), std::make_move_iterator(extraFlags.begin()), std::make_move_iterator(extraFlags.end()));
    _process = std::make_unique<test::DaemonProcess>("indexd", std::move(args));
    _process->start();
    const test::DaemonProcess::Fields ready = _process->waitReady();
    const auto udp = ready.find("udp");
    const auto identity = ready.find("identity");
    if (udp == ready.end() || identity == ready.end())
        throw std::runtime_error("indexd's ready line names no udp or identity:\n" + _process->log());
    const Parsed<Endpoint> endpoint = Endpoint::parse(udp->second);
    if (!endpoint) throw std::runtime_error("indexd's ready line gives udp=" + udp->second + ": " + endpoint.error());
    _endpoint = *endpoint;
    if (!Base64::decodeInto(identity->second, _identity))
        throw std::runtime_error("indexd's ready line gives identity=" + identity->second + ", not a key");
}

} // namespace peerchat::bench
