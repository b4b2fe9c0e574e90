#pragma once

#include "DatagramSink.h"
#include "Endpoint.h"
#include "PeerSessions.h"
#include "Protocol.h"
#include "Roster.h"

#include <Poco/Logger.h>

#include <string>

namespace peerchat {

/// Where a datagram for a peer goes, decided in one place: everything peerd
/// sends to a peer goes through send() (sealed) or sendPlain() (seed and
/// .NET talk), and a datagram that arrives is matched to its peer by
/// peerAt(). Today each peer's path is the endpoint indexd registered for
/// it; the senders do not know, and need not know, how a path is made.
class PeerPaths
{
public:
    PeerPaths(DatagramSink& sink, const Roster& roster, PeerSessions& sessions);

    /// Seals message to name, online with keys, and sends it on name's path;
    /// a message that cannot be sealed (keys a malicious indexd made up) is
    /// not sent, logged at debug as the drops it causes.
    void send(const std::string& name, const Message& message);

    /// Sends talk as plain text to name, a seed or .NET peer online, in the
    /// encoding its client reads.
    void sendPlain(const std::string& name, const Talk& talk);

    /// The peer whose path from is, or nullptr.
    const std::string* peerAt(const Endpoint& from) const;

private:
    DatagramSink& _sink;
    const Roster& _roster;
    PeerSessions& _sessions;
    Poco::Logger& _logger;
};

} // namespace peerchat
