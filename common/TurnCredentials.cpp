#include "TurnCredentials.h"

#include <Poco/Base64Encoder.h>
#include <Poco/HMACEngine.h>
#include <Poco/SHA1Engine.h>

#include <sstream>

namespace peerchat {

TurnCredentials TurnCredentials::mint(const std::string& secret, const std::string& name,
                                      std::chrono::system_clock::time_point expiry)
{
    const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(expiry.time_since_epoch()).count();
    TurnCredentials credentials;
    credentials.username = std::to_string(seconds) + ":" + name;

    Poco::HMACEngine<Poco::SHA1Engine> hmac(secret);
    hmac.update(credentials.username);
    const Poco::DigestEngine::Digest& digest = hmac.digest();
    std::ostringstream text;
    Poco::Base64Encoder encoder(text);
    encoder.rdbuf()->setLineLength(0);
    encoder.write(reinterpret_cast<const char*>(digest.data()), static_cast<std::streamsize>(digest.size()));
    encoder.close();
    credentials.password = text.str();
    return credentials;
}

} // namespace peerchat
