#include "LoginCryptoCost.h"

#include "Endpoint.h"
#include "KxKeyPair.h"
#include "Protocol.h"
#include "SessionCipher.h"
#include "SignedStatement.h"
#include "SigningKey.h"

#include <sodium.h>

#include <ctime>
#include <stdexcept>
#include <string>
#include <vector>

namespace peerchat::bench {

namespace {

/// Different users the rounds cycle through, so that no cache holds one
/// user's keys warmer than a real login would find them.
constexpr std::size_t kUsers = 64;
/// Rounds run before the clock starts.
constexpr std::size_t kWarmUp = 64;
/// Contacts in each user's list: the bench's 50.
constexpr std::size_t kContacts = 50;

/// What indexd gets from one user in a login, and the texts it signs for it.
struct Login
{
    SigningKey identity;
    KxKeyPair kx;
    std::string challenge;  ///< the statement of the challenge's signature
    std::string auth;       ///< of the auth's signature
    Signature authSig{};
    std::string kxStatement;
    Signature kxSig{};
    std::string welcome;
    std::string contacts;
    Signature contactsSig{};
};

std::chrono::nanoseconds threadCpu()
{
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec);
}

// The mean thread CPU of operation(login) over iterations rounds, cycling through logins.
template <typename Operation>
std::chrono::duration<double, std::micro> timeEach(const std::vector<Login>& logins, std::size_t iterations,
                                                   Operation operation)
{
    for (std::size_t i = 0; i < kWarmUp; ++i) operation(logins[i % logins.size()]);
    const auto start = threadCpu();
    for (std::size_t i = 0; i < iterations; ++i) operation(logins[i % logins.size()]);
    return std::chrono::duration<double, std::micro>(threadCpu() - start) / static_cast<double>(iterations);
}

// User number's login as a CrowdUser makes it, to the indexd run of index, kx and epoch.
Login makeLogin(std::size_t number, const SigningKey& index, const KxKeyPair& indexKx, const Epoch& epoch)
{
    Login login{SigningKey::generate(), KxKeyPair::generate(), {}, {}, {}, {}, {}, {}, {}, {}};
    const std::string name = "u" + std::to_string(number);
    const Parsed<Endpoint> observed = Endpoint::parse("127.0.0.1:" + std::to_string(40000 + number));
    Challenge challenge{name, *observed, {}, {}, epoch, index.publicKey(), {}};
    randombytes_buf(challenge.nonce.data(), challenge.nonce.size());
    randombytes_buf(challenge.echo.data(), challenge.echo.size());
    login.challenge = SignedStatement::challenge(challenge);

    login.kxStatement =
        SignedStatement::kx(login.identity.publicKey(), name, login.kx.publicKey(), index.publicKey(), epoch);
    Auth auth{name, *observed, std::string(dialectToken(Dialect::Peerchat)),
              PeerKeys{login.identity.publicKey(), login.kx.publicKey(), login.identity.sign(login.kxStatement)},
              challenge.nonce, {}};
    login.kxSig = auth.keys.kxSig;
    login.auth = SignedStatement::auth(auth);
    login.authSig = login.identity.sign(login.auth);

    const Welcome welcome{name, epoch, index.publicKey(), indexKx.publicKey(), {}};
    login.welcome = SignedStatement::welcome(welcome, challenge.nonce);

    ContactsDeclaration contacts{name, 1, 1, 1, PresenceState::Online, {}, {}, {}};
    for (std::size_t i = 1; i <= kContacts; ++i) contacts.names.push_back("u" + std::to_string(number * 997 + i));
    login.contacts = SignedStatement::contacts(contacts);
    login.contactsSig = login.identity.sign(login.contacts);
    return login;
}

} // namespace

LoginCryptoCost::Figures LoginCryptoCost::measure(std::size_t iterations)
{
    if (iterations == 0) throw std::invalid_argument("LoginCryptoCost needs at least one iteration");
    Sodium::init();
    const SigningKey index = SigningKey::generate();
    const KxKeyPair indexKx = KxKeyPair::generate();
    Epoch epoch{};
    randombytes_buf(epoch.data(), epoch.size());
    std::vector<Login> logins;
    logins.reserve(kUsers);
    for (std::size_t i = 0; i < kUsers; ++i) logins.push_back(makeLogin(i, index, indexKx, epoch));

    // Every verification must pass and every session be made, or the
    // figures would time a shortcut (a refusal that stops early).
    std::size_t failures = 0;
    const auto verify = [&](const PublicKey& key, const std::string& text, const Signature& sig) {
        if (!SigningKey::verify(key, text, sig)) ++failures;
    };

    Figures figures;
    figures.iterations = iterations;
    // A signature is dropped once made: indexd sends it, and libsodium's
    // signing is out of the compiler's sight, so the call cannot be left out.
    figures.signChallenge = timeEach(logins, iterations, [&](const Login& login) { index.sign(login.challenge); });
    figures.verifyAuth = timeEach(logins, iterations, [&](const Login& login) {
        verify(login.identity.publicKey(), login.auth, login.authSig);
    });
    figures.verifyKx = timeEach(logins, iterations, [&](const Login& login) {
        verify(login.identity.publicKey(), login.kxStatement, login.kxSig);
    });
    figures.deriveSession = timeEach(logins, iterations, [&](const Login& login) {
        if (!SessionCipher::between(indexKx, index, login.identity.publicKey(), login.kx.publicKey())) ++failures;
    });
    figures.signWelcome = timeEach(logins, iterations, [&](const Login& login) { index.sign(login.welcome); });
    figures.verifyContacts = timeEach(logins, iterations, [&](const Login& login) {
        verify(login.identity.publicKey(), login.contacts, login.contactsSig);
    });
    if (failures > 0)
        throw std::runtime_error("LoginCryptoCost: " + std::to_string(failures)
                                 + " of its own signatures or sessions failed");
    return figures;
}

} // namespace peerchat::bench
