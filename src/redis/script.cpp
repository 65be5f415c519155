// SPDX-License-Identifier: MIT
// EVALSHA with reload.
#include "redis/script.hpp"

namespace ssecast::redis {

void Script::eval(Connection& conn, const std::vector<std::string>& keys,
                  const std::vector<std::string>& args, Connection::Done done) {
    std::vector<std::string> cmd;
    cmd.reserve(3 + keys.size() + args.size());
    cmd.emplace_back("EVALSHA");
    cmd.emplace_back(sha_);
    cmd.push_back(std::to_string(keys.size()));
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    cmd.insert(cmd.end(), args.begin(), args.end());
    if (sha_.empty()) {
        load_then_eval(conn, std::move(cmd), std::move(done));
        return;
    }
    // The command is kept for one retry: NOSCRIPT means the server forgot the script.
    auto again = std::make_shared<std::vector<std::string>>(cmd);
    conn.command(std::move(cmd), [self = shared_from_this(), &conn, again,
                                  done = std::move(done)](result<Reply> r) mutable {
        if (r && r->error_is("NOSCRIPT")) {
            self->sha_.clear();
            self->load_then_eval(conn, std::move(*again), std::move(done));
            return;
        }
        done(std::move(r));
    });
}

void Script::load_then_eval(Connection& conn, std::vector<std::string> cmd, Connection::Done done) {
    conn.command({"SCRIPT", "LOAD", std::string(source_)},
                 [self = shared_from_this(), &conn, cmd = std::move(cmd),
                  done = std::move(done)](result<Reply> r) mutable {
                     if (!r || r->is_error() || r->type != Reply::Type::string) {
                         done(std::move(r));
                         return;
                     }
                     self->sha_ = r->str;
                     cmd[1] = self->sha_;
                     conn.command(std::move(cmd), std::move(done));
                 });
}

} // namespace ssecast::redis
