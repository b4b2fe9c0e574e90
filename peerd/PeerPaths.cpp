#include "PeerPaths.h"

namespace peerchat {

PeerPaths::PeerPaths(DatagramSink& sink, const Roster& roster, PeerSessions& sessions)
    : _sink(sink), _roster(roster), _sessions(sessions), _logger(Poco::Logger::get("peerd.wire.paths"))
{
}

void PeerPaths::send(const std::string& name, const Message& message)
{
    const Roster::Peer* peer = _roster.find(name);
    if (peer == nullptr || !peer->keys) {
        _logger.debug(std::string(Protocol::verb(message)) + " to " + name + " not sent: " + name +
                      " is not online with keys");
        return;
    }
    const Parsed<Seal> seal = _sessions.sealTo(name, *peer->keys, message);
    if (!seal) {
        _logger.debug(std::string(Protocol::verb(message)) + " to " + name + " not sent: " + seal.error());
        return;
    }
    _sink.sendTo(Protocol::encodeDatagram(*seal, TextEncoding::Utf8), peer->endpoint);
}

void PeerPaths::sendPlain(const std::string& name, const Talk& talk)
{
    const Roster::Peer* peer = _roster.find(name);
    if (peer == nullptr) return;
    const TextEncoding encoding = peer->dialect == Dialect::DotNet ? TextEncoding::Utf16le : TextEncoding::Utf8;
    _sink.sendTo(Protocol::encodeDatagram(talk, encoding), peer->endpoint);
}

const std::string* PeerPaths::peerAt(const Endpoint& from) const
{
    return _roster.nameAt(from);
}

} // namespace peerchat
