#pragma once

#include "DatagramSink.h"
#include "Directory.h"
#include "Protocol.h"

#include <string>

namespace peerchat {

/// Sends indexd's messages to peerchat/3 users sealed: each through indexd's
/// session with that user (Directory::session), to its registered endpoint.
class SealedSender
{
public:
    SealedSender(Directory& directory, DatagramSink& sink);

    /// Seals inner for the peerchat/3 user online under name and sends it;
    /// false, sending nothing, when name has no session.
    bool send(const std::string& name, const Message& inner);

    /// Seals plaintext (one encoded message, or a bundle of them joined by
    /// Protocol::kBundleSeparator) for name and sends it, as send().
    bool sendText(const std::string& name, const std::string& plaintext);

private:
    Directory& _directory;
    DatagramSink& _sink;
};

} // namespace peerchat
