#include "core/errors.h"

#include <array>

namespace opendbs::core {
namespace {

constexpr std::array kTable = {
    ErrorKind{"MissingParameter", 400, 2, "A required parameter is absent; the message names it."},
    ErrorKind{"InvalidParameterValid", 400, 2,
              "A parameter has a value outside its format or enumeration; the message names it and what is expected."},
    ErrorKind{"InvalidParameter", 400, 2, "The combination of parameters is not allowed."},
    ErrorKind{"IdempotentParameterMismatch", 400, 2,
              "A ClientToken was reused with different parameters within 24 hours."},
    ErrorKind{"InvalidJobId", 404, 4, "The named backup plan, backup set or task does not exist in this account."},
    ErrorKind{"InvalidAction.NotFound", 404, 2, "The Action is not an operation of DBS 2019-03-06."},
    ErrorKind{"InvalidVersion", 400, 2, "The Version is not 2019-03-06."},
    ErrorKind{"IncompleteSignature", 400, 3, "The request lacks a signature element (AccessKeyId, Signature, ...)."},
    ErrorKind{"InvalidAccessKeyId.NotFound", 404, 3, "The AccessKey ID is unknown."},
    ErrorKind{"InvalidAccessKeyId.Inactive", 400, 3, "The AccessKey is disabled."},
    ErrorKind{"SignatureDoesNotMatch", 400, 3,
              "The signature is wrong; the message shows the server's StringToSign for comparison."},
    ErrorKind{"InvalidTimeStamp.Expired", 400, 3, "Timestamp / x-acs-date is more than 15 minutes from the node's clock."},
    ErrorKind{"InvalidTimeStamp.Format", 400, 3, "Timestamp / x-acs-date is not YYYY-MM-DDThh:mm:ssZ."},
    ErrorKind{"SignatureNonceUsed", 400, 3, "The SignatureNonce was already used with this AccessKey within 15 minutes."},
    ErrorKind{"UnsupportedSignatureMethod", 400, 3, "SignatureMethod/SignatureVersion or the V3 algorithm is not supported."},
    ErrorKind{"InvalidSecurityToken", 400, 3, "An STS SecurityToken was sent; opendbs has no STS service."},
    ErrorKind{"Request.Forbidden", 403, 5, "The caller's RAM policies do not allow this action on this resource."},
    ErrorKind{"OperationDenied.PlanStatus", 409, 6, "The plan's current status does not allow the operation."},
    ErrorKind{"OperationDenied.NotApplicable", 400, 6,
              "The operation concerns Alibaba Cloud billing or services that a self-hosted node does not have."},
    ErrorKind{"RequestTooLarge", 413, 2, "Headers or body exceed the node's limits."},
    ErrorKind{"InvalidRange", 416, 2, "A download's Range starts past the end of the file."},
    ErrorKind{"BadRequest", 400, 2, "The HTTP request could not be read (method, path, encoding)."},
    ErrorKind{"NotFound", 404, 4, "The object does not exist."},
    ErrorKind{"Corrupt", 500, 7, "Stored data failed verification (hash, authentication tag, structure)."},
    ErrorKind{"IOError", 500, 7, "A file or network operation failed."},
    ErrorKind{"ServiceUnavailable", 503, 8, "The node is shutting down or overloaded; retry."},
    ErrorKind{"Cancelled", 409, 10, "The task was stopped (StopBackupPlan ALL, DisableBackupLog, release or shutdown)."},
    ErrorKind{"EngineUnavailable", 400, 6, "No engine for the plan's DatabaseType/BackupMethod in this build."},
    ErrorKind{"SourceUnreachable", 400, 6, "The source or destination database refused or failed the connection."},
    ErrorKind{"SourcePermissionDenied", 400, 6,
              "The source or destination database refused an operation for want of a privilege of the plan's role."},
    ErrorKind{"InternalError", 500, 9, "A bug in opendbs; the RequestId finds it in the log."},
};

}  // namespace

std::span<const ErrorKind> error_table() { return kTable; }

const ErrorKind& error_kind(std::string_view code) {
  for (const auto& k : kTable)
    if (k.code == code) return k;
  return kTable.back();
}

Error make_error(std::string_view code, std::string message) {
  return Error{std::string(code), error_kind(code).http_status, std::move(message)};
}

namespace errors {

Error missing_parameter(std::string_view name) {
  return make_error("MissingParameter", "The input parameter \"" + std::string(name) +
                                            "\" that is mandatory for processing this request is not supplied.");
}

Error invalid_parameter(std::string_view name, std::string_view value, std::string_view expected) {
  return make_error("InvalidParameterValid", "The specified parameter " + std::string(name) + " value \"" +
                                                 std::string(value) + "\" is not valid: expected " +
                                                 std::string(expected) + ".");
}

Error invalid_job_id(std::string_view id) {
  return make_error("InvalidJobId", "The specified job id \"" + std::string(id) + "\" does not exist.");
}

Error internal(std::string message) { return make_error("InternalError", std::move(message)); }
Error io(std::string message) { return make_error("IOError", std::move(message)); }
Error not_found(std::string message) { return make_error("NotFound", std::move(message)); }
Error corrupt(std::string message) { return make_error("Corrupt", std::move(message)); }

}  // namespace errors
}  // namespace opendbs::core
