#include "Crowd.h"

#include "Base64.h"

#include <chrono>
#include <stdexcept>
#include <variant>

namespace peerchat::stress {

std::unique_ptr<test::SecureClient> Crowd::logIn(test::ChatNetwork& net, const std::string& name,
                                                 const std::string& bindHost)
{
    auto client = std::make_unique<test::SecureClient>(name, bindHost);
    PublicKey indexKey{};
    if (!Base64::decodeInto(net.indexKey(), indexKey)) throw std::runtime_error("indexd's key is not base64url");
    client->pinIndex(indexKey);
    const auto welcome = client->login(net.index());
    if (!welcome) throw std::runtime_error(name + " could not log in from " + bindHost + ": " + welcome.error());
    return client;
}

Crowd::Crowd(test::ChatNetwork& net, const std::string& prefix, std::size_t count, std::size_t perAddress)
{
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t address = i / perAddress;
        const std::string host = "127.10." + std::to_string(address / 250) + "." + std::to_string(1 + address % 250);
        _users.push_back(logIn(net, prefix + std::to_string(i), host));
    }
    _loginSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<std::string> Crowd::names() const
{
    std::vector<std::string> names;
    names.reserve(_users.size());
    for (const auto& user : _users) names.push_back(user->name());
    return names;
}

void Crowd::declare(const std::vector<std::string>& contacts)
{
    // All first, then the answers: indexd answers at its next tick.
    for (const auto& user : _users) user->declare(contacts);
    for (const auto& user : _users) {
        if (!user->receiveInner("snapshot"))
            throw std::runtime_error(user->name() + " got no snapshot for its contact list");
    }
}

Crowd::Heard Crowd::heardOf(const std::string& subject)
{
    Heard heard;
    for (const auto& user : _users) {
        while (const auto received = user->receive(std::chrono::milliseconds(0))) {
            bool about = false;
            for (const Message& inner : received->bundle) {
                if (const auto* here = std::get_if<Here>(&inner); here && here->name == subject) {
                    ++heard.here;
                    about = true;
                } else if (const auto* gone = std::get_if<Gone>(&inner); gone && gone->name == subject) {
                    ++heard.gone;
                    about = true;
                }
            }
            heard.datagrams += about;
        }
    }
    return heard;
}

} // namespace peerchat::stress
