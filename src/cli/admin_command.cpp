#include "cli/admin_command.h"

#include <boost/json.hpp>
#include <iostream>

#include "catalog/store.h"
#include "core/errors.h"
#include "core/file.h"
#include "iam/directory.h"

namespace opendbs::cli {
namespace {

struct AdminArgs {
  std::string data_dir = "./opendbs-data";
  std::string account = "default";
  std::string name, file, policy_name, key_id;
};

// Opens the directory of a data dir and runs `fn`; prints the error and sets the exit code on failure.
void with_directory(const AdminArgs& a, int& exit_code,
                    const std::function<core::Status(iam::Directory&, const std::string& account_id)>& fn) {
  auto run = [&]() -> core::Status {
    OPENDBS_ASSIGN(auto store, catalog::open_store("sqlite:" + a.data_dir + "/catalog.db"));
    OPENDBS_ASSIGN(auto box, iam::SecretBox::open_or_create(a.data_dir));
    iam::Directory directory(*store, box);
    std::string account_id;
    if (a.account.size() == 16 && std::all_of(a.account.begin(), a.account.end(), ::isdigit)) {
      account_id = a.account;
    } else {
      auto found = directory.account_by_name(a.account);
      if (!found.ok() && a.account == "default") {
        OPENDBS_TRY(directory.ensure_root(std::nullopt));
        found = directory.account_by_name(a.account);
      }
      if (!found.ok()) return found.error();
      account_id = *found;
    }
    return fn(directory, account_id);
  };
  auto st = run();
  if (!st.ok()) {
    std::cerr << "opendbs admin: " << st.error().message << "\n";
    exit_code = core::error_kind(st.error().code).exit_code;
  }
}

void print_json(const boost::json::object& o) { std::cout << boost::json::serialize(o) << "\n"; }

}  // namespace

void add_admin_commands(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<AdminArgs>();
  auto* admin = app.add_subcommand("admin", "Manage accounts, users, AccessKeys and RAM policies of a node")
                    ->require_subcommand(1);
  admin->add_option("--data-dir", args->data_dir, "The node's data directory")->capture_default_str();
  admin->add_option("--account", args->account, "Account name or 16-digit AccountId")->capture_default_str();

  auto* account = admin->add_subcommand("account", "Accounts")->require_subcommand(1);
  auto* account_create = account->add_subcommand("create", "Create an account and its root AccessKey");
  account_create->add_option("NAME", args->name)->required();
  account_create->callback([args, &exit_code] {
    auto a = *args;
    a.account = "default";
    with_directory(a, exit_code, [&](iam::Directory& d, const std::string&) -> core::Status {
      OPENDBS_ASSIGN(auto id, d.create_account(args->name));
      OPENDBS_ASSIGN(auto key, d.create_root_key(id));
      print_json({{"AccountId", id}, {"AccessKeyId", key.access_key_id}, {"AccessKeySecret", key.access_key_secret}});
      return {};
    });
  });

  auto* user = admin->add_subcommand("user", "RAM users")->require_subcommand(1);
  auto* user_create = user->add_subcommand("create", "Create a RAM user (no permissions until a policy is attached)");
  user_create->add_option("NAME", args->name)->required();
  user_create->callback([args, &exit_code] {
    with_directory(*args, exit_code, [&](iam::Directory& d, const std::string& account) -> core::Status {
      OPENDBS_TRY(d.create_user(account, args->name));
      print_json({{"UserName", args->name}, {"AccountId", account}});
      return {};
    });
  });

  auto* key = admin->add_subcommand("accesskey", "AccessKeys")->require_subcommand(1);
  auto* key_create = key->add_subcommand("create", "Create an AccessKey for a user (prints the secret once)");
  key_create->add_option("NAME", args->name, "The user")->required();
  key_create->callback([args, &exit_code] {
    with_directory(*args, exit_code, [&](iam::Directory& d, const std::string& account) -> core::Status {
      OPENDBS_ASSIGN(auto pair, d.create_access_key(account, args->name));
      print_json({{"AccessKeyId", pair.access_key_id}, {"AccessKeySecret", pair.access_key_secret}});
      return {};
    });
  });
  for (bool enable : {true, false}) {
    auto* sub = key->add_subcommand(enable ? "enable" : "disable", enable ? "Enable an AccessKey" : "Disable an AccessKey");
    sub->add_option("ACCESS_KEY_ID", args->key_id)->required();
    sub->callback([args, &exit_code, enable] {
      with_directory(*args, exit_code, [&](iam::Directory& d, const std::string&) {
        return d.set_access_key_active(args->key_id, enable);
      });
    });
  }

  auto* policy = admin->add_subcommand("policy", "RAM policy documents")->require_subcommand(1);
  auto* attach = policy->add_subcommand("attach", "Attach a RAM policy document (JSON file) to a user");
  attach->add_option("NAME", args->name, "The user")->required();
  attach->add_option("--file", args->file, "The policy document")->required();
  attach->add_option("--policy-name", args->policy_name, "Name of the attachment (default: the file's base name)");
  attach->callback([args, &exit_code] {
    with_directory(*args, exit_code, [&](iam::Directory& d, const std::string& account) -> core::Status {
      OPENDBS_ASSIGN(auto document, core::read_file(args->file));
      std::string name = args->policy_name;
      if (name.empty()) {
        name = args->file.substr(args->file.find_last_of('/') + 1);
        name = name.substr(0, name.find('.'));
      }
      OPENDBS_TRY(d.attach_policy(account, args->name, name, document));
      print_json({{"UserName", args->name}, {"PolicyName", name}});
      return {};
    });
  });
  auto* detach = policy->add_subcommand("detach", "Detach a policy from a user");
  detach->add_option("NAME", args->name, "The user")->required();
  detach->add_option("--policy-name", args->policy_name)->required();
  detach->callback([args, &exit_code] {
    with_directory(*args, exit_code, [&](iam::Directory& d, const std::string& account) {
      return d.detach_policy(account, args->name, args->policy_name);
    });
  });
}

}  // namespace opendbs::cli
