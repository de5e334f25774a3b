// The source database inputs of the new-plan form: where it runs, address, credentials, database and
// the optional BackupObjects JSON. values() gives the SourceEndpoint* parameters and BackupObjects.
import { h, field, select } from '../dom.js';

export function sourceFields(databaseType) {
  const where = select({ name: 'SourceEndpointInstanceType' }, [['Other', 'A server by address (Other)'],
    ['Agent', 'On this node (Agent)']], 'Other');
  const ip = h('input', { name: 'SourceEndpointIP', placeholder: '127.0.0.1', autocomplete: 'off' });
  const port = h('input', { name: 'SourceEndpointPort', type: 'number', min: 1, max: 65535, placeholder: '3306' });
  const user = h('input', { name: 'SourceEndpointUserName', autocomplete: 'off' });
  const password = h('input', { name: 'SourceEndpointPassword', type: 'password', autocomplete: 'new-password' });
  const dbName = h('input', { name: 'SourceEndpointDatabaseName', autocomplete: 'off' });
  const objects = h('textarea', { name: 'BackupObjects', rows: 2, placeholder: '[{"DBName":"shop"}]' });

  databaseType.addEventListener('change', () => {
    port.placeholder = databaseType.value === 'PostgreSQL' ? '5432' : '3306';
  });
  const validate = () => {
    let ok = true;
    if (objects.value.trim()) {
      try { ok = Array.isArray(JSON.parse(objects.value)); } catch { ok = false; }
    }
    objects.setCustomValidity(ok ? '' : 'Must be a JSON list, e.g. [{"DBName":"shop"}]');
    return ok;
  };
  objects.addEventListener('input', validate);

  return {
    element: h('div', {},
      h('div', { class: 'grid-3' }, field('Where it runs', where), field('Host or IP', ip), field('Port', port),
        field('User', user), field('Password', password, 'Stored encrypted on the node; never shown again.'),
        field('Database', dbName, 'PostgreSQL: database to connect to. SQLite: path of the database file.')),
      field('Databases and tables (optional)', objects, 'JSON, e.g. [{"DBName":"shop"}]. Empty = everything.')),
    validate,
    values: () => ({
      SourceEndpointInstanceType: where.value, SourceEndpointIP: ip.value.trim(), SourceEndpointPort: port.value,
      SourceEndpointUserName: user.value, SourceEndpointPassword: password.value,
      SourceEndpointDatabaseName: dbName.value, BackupObjects: objects.value.trim(),
    }),
  };
}
