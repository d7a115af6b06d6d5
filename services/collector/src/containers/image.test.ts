import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isImageId, parseImageReference } from './image.js';
import { dockerImageFields } from './docker.js';

const D = `sha256:${'ab'.repeat(32)}`;

test('image references split like libsinsp split_container_image', () => {
  assert.deepEqual(parseImageReference('docker.io/library/busybox:1.36'), { repository: 'docker.io/library/busybox', tag: '1.36', digest: '' });
  assert.deepEqual(parseImageReference(`localhost:5000/a/b@${D}`), { repository: 'localhost:5000/a/b', tag: '', digest: D });
  assert.deepEqual(parseImageReference(`localhost:5000/a/b:v2@${D}`), { repository: 'localhost:5000/a/b', tag: 'v2', digest: D });
  assert.deepEqual(parseImageReference('localhost/harrier-test:latest'), { repository: 'localhost/harrier-test', tag: 'latest', digest: '' });
  assert.deepEqual(parseImageReference('localhost:5000/x'), { repository: 'localhost:5000/x', tag: '', digest: '' });
  assert.deepEqual(parseImageReference('busybox'), { repository: 'busybox', tag: '', digest: '' });
  assert.deepEqual(parseImageReference('nginx:1.25-alpine'), { repository: 'nginx', tag: '1.25-alpine', digest: '' });
});

test('image ids are told apart from names', () => {
  assert.equal(isImageId(D), true);
  assert.equal(isImageId('abababababab'), true);
  assert.equal(isImageId('busybox'), false);
  assert.equal(isImageId('localhost/harrier-test:latest'), false);
});

test('docker image fields: tag defaults to latest, image inspect fills digest and names an id-only image', () => {
  const id = 'cd'.repeat(32);
  assert.deepEqual(dockerImageFields('busybox', `sha256:${id}`, undefined), {
    image: 'busybox',
    imageRepository: 'busybox',
    imageTag: 'latest',
    imageDigest: undefined,
    imageId: id,
  });
  const img = { repoTags: ['other/thing:9', 'localhost/harrier-test:v1'], repoDigests: [`other/thing@sha256:${'0'.repeat(64)}`, `localhost/harrier-test@${D}`] };
  // Named image: the digest of the same repository wins, the tag stays the one asked for.
  assert.deepEqual(dockerImageFields('localhost/harrier-test:latest', `sha256:${id}`, img), {
    image: 'localhost/harrier-test:latest',
    imageRepository: 'localhost/harrier-test',
    imageTag: 'latest',
    imageDigest: D,
    imageId: id,
  });
  // Started by image id: repository, tag and digest all come from the image record (first entries).
  assert.deepEqual(dockerImageFields(id.slice(0, 12), `sha256:${id}`, img), {
    image: id.slice(0, 12),
    imageRepository: 'other/thing',
    imageTag: '9',
    imageDigest: `sha256:${'0'.repeat(64)}`,
    imageId: id,
  });
  // A registry port is not a tag.
  assert.equal(dockerImageFields('localhost:5000/a/b', `sha256:${id}`, { repoTags: ['localhost:5000/a/b:3'], repoDigests: [] }).imageTag, '3');
});
