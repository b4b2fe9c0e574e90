#include "SealedSender.h"

namespace peerchat {

SealedSender::SealedSender(Directory& directory, DatagramSink& sink) : _directory(directory), _sink(sink) {}

bool SealedSender::send(const std::string& name, const Message& inner)
{
    return sendText(name, Protocol::encode(inner));
}

bool SealedSender::sendText(const std::string& name, const std::string& plaintext)
{
    SessionCipher* session = _directory.session(name);
    const OnlineUser* user = _directory.find(name);
    if (!session || !user) return false;
    _sink.sendTo(Protocol::encodeDatagram(session->seal(plaintext), TextEncoding::Utf8), user->endpoint);
    return true;
}

} // namespace peerchat
