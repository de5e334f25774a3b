// Preloaded into s3rver by the tests (node --require). s3rver 3.7.1 answers a PUT (and an UploadPart)
// as soon as the bytes have gone through its hashing stream, before the file stream has opened,
// written and closed the file; a GET sent right after the answer can then see no object or part of
// it. AWS S3 guarantees read-after-write, and the Backend contract relies on it, so this replaces the
// two writers with ones that answer only after the file is closed. Nothing else is changed.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Transform } = require('stream');

const s3rverRoot = path.join(path.dirname(fs.realpathSync(process.argv[1])), '..');
const FilesystemStore = require(path.join(s3rverRoot, 'lib', 'stores', 'filesystem.js'));

// Writes a Buffer or a stream to `file`; resolves with its size and MD5 once the file is closed.
async function writeFully(file, content) {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const md5 = crypto.createHash('md5');
  let size = 0;
  await new Promise((resolve, reject) => {
    const out = fs.createWriteStream(file).on('error', reject).on('close', resolve);
    if (Buffer.isBuffer(content)) {
      md5.update(content);
      size = content.length;
      out.end(content);
      return;
    }
    const hashing = new Transform({
      transform(chunk, encoding, callback) {
        md5.update(chunk, encoding);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    content.on('error', reject).pipe(hashing).on('error', reject).pipe(out);
  });
  return { size, md5: md5.digest('hex') };
}

FilesystemStore.prototype.putObject = async function putObject(object) {
  const file = this.getResourcePath(object.bucket, object.key, 'object');
  const { size, md5 } = await writeFully(file, object.content);
  await this.putMetadata(object.bucket, object.key, object.metadata, md5);
  return { size, md5 };
};

FilesystemStore.prototype.putPart = async function putPart(bucket, uploadId, partNumber, content) {
  const file = path.join(this.getResourcePath(bucket, undefined, 'uploads'), uploadId, partNumber.toString());
  const { size, md5 } = await writeFully(file, content);
  await fs.promises.writeFile(`${file}.md5`, md5);
  return { size, md5 };
};
