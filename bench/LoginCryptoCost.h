#pragma once

#include <chrono>
#include <cstddef>

namespace peerchat::bench {

/// The public-key work indexd does for one peerchat/3 login, and nothing
/// else, timed in this process: what a login's CPU in indexd is compared
/// with. Per login indexd (indexd/LoginHandler):
///   - signs the challenge it answers the hello with (SigningKey::sign),
///   - verifies the auth's signature and its KXSIG with the user's identity
///     key (SigningKey::verify, twice),
///   - derives the session with the user's key-exchange key
///     (SessionCipher::between: the identity key converted to X25519, three
///     X25519 products, BLAKE2b over them, the keys put in locked memory),
///   - signs the welcome,
///   - verifies the signature of the user's contact list (one part: the
///     bench's 50 names take some 350 of the 3,000 bytes a part holds).
/// Sealing and opening (the declaration, declared, the presence a login
/// brings) is symmetric cryptography and not counted here.
/// Each is run on its own for iterations rounds over 64 different users
/// (their keys, auths and lists made beforehand with the real statements of
/// SignedStatement, whose texts are built before the clock starts: only the
/// public-key operations are timed), on this thread's CPU clock
/// (CLOCK_THREAD_CPUTIME_ID), so time this process spends waiting or other
/// processes take is not counted. A login's cost is the sum of the means.
class LoginCryptoCost
{
public:
    /// The mean CPU time of each operation, and of one login's worth of them.
    struct Figures
    {
        std::chrono::duration<double, std::micro> signChallenge{0};
        std::chrono::duration<double, std::micro> verifyAuth{0};
        std::chrono::duration<double, std::micro> verifyKx{0};
        std::chrono::duration<double, std::micro> deriveSession{0};
        std::chrono::duration<double, std::micro> signWelcome{0};
        std::chrono::duration<double, std::micro> verifyContacts{0};
        std::size_t iterations = 0;

        /// One login's public-key work: the sum of the six.
        std::chrono::duration<double, std::micro> perLogin() const
        {
            return signChallenge + verifyAuth + verifyKx + deriveSession + signWelcome + verifyContacts;
        }
    };

    /// Times each operation iterations times (after a few rounds to warm
    /// up). Throws std::runtime_error when a signature made for the
    /// measurement does not verify or a session cannot be made: the
    /// figures would not be of the real work.
    static Figures measure(std::size_t iterations);
};

} // namespace peerchat::bench
