import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parquetWriteFile } from 'hyparquet-writer';
import { loadSource } from '../../../src/data/sources.js';
import { FormatError, InputError, NotFoundError } from '../../../src/errors.js';
import { fixture, tmp } from '../../helpers.js';

describe('amazon2014 loader', () => {
  it('reads gzipped reviews + Python-literal meta, reporting malformed lines by number', async () => {
    const d = tmp();
    const reviews = fixture(
      d,
      'reviews_Beauty_5.json.gz',
      [
        '{"reviewerID": "U1", "asin": "A1", "overall": 5.0, "unixReviewTime": 300}',
        '{"reviewerID": "U1", "asin": "A2", "unixReviewTime": 100}',
        'this is not json',
        '{"reviewerID": "U2", "asin": "A1"}',
        '{"reviewerID": "U2", "asin": "A2", "unixReviewTime": 5}',
        '',
      ].join('\n'),
    );
    const meta = fixture(
      d,
      'meta_Beauty.json.gz',
      [
        `{'asin': 'A1', 'title': "L'Oreal Paris \\"Colour\\" Riche", 'categories': [['Beauty', 'Makeup', 'Lips']], 'brand': 'L\\'Oreal', 'price': 6.5, 'related': {'also_bought': ['A2']}, 'salesRank': {'Beauty': 12}, 'imUrl': None}`,
        `{'asin': 'A2', 'title': 'Brush', 'description': 'Soft\\nbristles', 'categories': [['Beauty', 'Tools']]}`,
        `{'asin': 'A3', 'title': 'unterminated}`,
      ].join('\n'),
    );
    const raw = await loadSource('amazon2014', { reviews, meta });
    expect([...raw.interactions]).toEqual([
      { user: 'U1', item: 'A1', timestamp: 300 },
      { user: 'U1', item: 'A2', timestamp: 100 },
      { user: 'U2', item: 'A2', timestamp: 5 },
    ]);
    expect(raw.malformed.count).toBe(3);
    expect(raw.malformed.examples.map((m) => [path.basename(m.file), m.line])).toEqual([
      ['reviews_Beauty_5.json.gz', 3],
      ['reviews_Beauty_5.json.gz', 4],
      ['meta_Beauty.json.gz', 3],
    ]);
    const a1 = raw.items.get('A1')!;
    expect(a1.title).toBe('L\'Oreal Paris "Colour" Riche');
    expect(a1.brand).toBe("L'Oreal");
    expect(a1.categories).toEqual(['Beauty', 'Makeup', 'Lips']);
    expect(a1.price).toBe(6.5);
    expect(a1.text).toContain('Beauty > Makeup > Lips');
    expect(raw.items.get('A2')!.description).toBe('Soft bristles');
  });

  it('refuses a file that is not in the format with a FormatError naming it', async () => {
    const d = tmp();
    const csv = fixture(d, 'ratings.csv', Array.from({ length: 60 }, (_, i) => `u${i},i${i},${i}`).join('\n'));
    await expect(loadSource('amazon2014', { reviews: csv })).rejects.toThrow(FormatError);
    await expect(loadSource('amazon2014', { reviews: csv })).rejects.toThrow(/ratings\.csv: not a amazon2014 reviews file/);
  });

  it('names missing files and flags', async () => {
    await expect(loadSource('amazon2014', { reviews: '/nonexistent/r.json' })).rejects.toThrow(NotFoundError);
    await expect(loadSource('amazon2014', {})).rejects.toThrow(InputError);
    await expect(loadSource('nope', {})).rejects.toThrow(/unknown format "nope"/);
  });
});

describe('p5 loader', () => {
  it('maps ids through datamaps and joins RecBole item text (with quoting and multi-line fields)', async () => {
    const d = tmp();
    const sequences = fixture(d, 'sequential_data.txt', '1 1 2 3\n2 2 3\n3 1 9\n4 a{b 1\n');
    const datamaps = fixture(
      d,
      'datamaps.json.gz',
      JSON.stringify({ id2item: { '1': 'ASIN1', '2': 'ASIN2', '3': 'ASIN3' }, id2user: { '1': 'RU1', '2': 'RU2', '3': 'RU3' } }),
    );
    const items = fixture(
      d,
      'Beauty.item',
      [
        'item_id:token\ttitle:token\tcategories:token_seq\tprice:float\tbrand:token',
        `ASIN1\tFirst\t"'Beauty', 'Fragrance', ""Women's"""\t9.5\tAcme`,
        `ASIN2\t"Two-line\ntitle"\t'Beauty', 'Nails'\t\t`,
        'ASIN3\tbroken row with too few fields',
        `ASIN3\tThird\t'Beauty'\t1\tZed`,
      ].join('\n'),
    );
    const raw = await loadSource('p5', { sequences, datamaps, items });
    expect([...raw.interactions]).toEqual([
      { user: 'RU1', item: 'ASIN1', timestamp: 0 },
      { user: 'RU1', item: 'ASIN2', timestamp: 1 },
      { user: 'RU1', item: 'ASIN3', timestamp: 2 },
      { user: 'RU2', item: 'ASIN2', timestamp: 0 },
      { user: 'RU2', item: 'ASIN3', timestamp: 1 },
    ]);
    expect(raw.malformed.examples.map((m) => [path.basename(m.file), m.line])).toEqual([
      ['sequential_data.txt', 3], // item 9 not in datamaps
      ['sequential_data.txt', 4], // not plain tokens
      ['Beauty.item', 5], // wrong field count (line 5: the two-line record occupies 3-4)
    ]);
    expect(raw.items.get('ASIN1')).toMatchObject({ title: 'First', brand: 'Acme', categories: ['Beauty', 'Fragrance', "Women's"], price: 9.5 });
    expect(raw.items.get('ASIN2')!.title).toBe('Two-line title');
    expect(raw.items.get('ASIN3')!.title).toBe('Third');
  });

  it('recbole format with --sequences joins the same way', async () => {
    const d = tmp();
    const sequences = fixture(d, 's.txt', '1 1 2\n');
    const datamaps = fixture(d, 'dm.json', JSON.stringify({ id2item: { '1': 'X', '2': 'Y' } }));
    const items = fixture(d, 'x.item', 'item_id:token\ttitle:token\nX\tEx\nY\tWhy\n');
    const raw = await loadSource('recbole', { sequences, datamaps, items });
    expect(raw.source).toBe('recbole+p5');
    expect(raw.items.get('Y')!.title).toBe('Why');
    await expect(loadSource('recbole', { sequences })).rejects.toThrow(/needs the source file\(s\) datamaps, items/);
  });

  it('refuses a datamaps file without id2item', async () => {
    const d = tmp();
    await expect(loadSource('p5', { sequences: fixture(d, 's.txt', '1 1\n'), datamaps: fixture(d, 'dm.json', '{"x": 1}') })).rejects.toThrow(
      /not a P5 datamaps.json/,
    );
  });
});

describe('recbole loader', () => {
  it('reads .inter + .item with typed headers', async () => {
    const d = tmp();
    const inter = fixture(
      d,
      'ml.inter',
      'user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t10\t4\t978300760\n1\t11\t3\t978300000\nbad line\n2\t10\t5\t978301000\n',
    );
    const item = fixture(d, 'ml.item', 'item_id:token\tmovie_title:token_seq\tgenre:token_seq\n10\tToy Story\tAnimation\n11\tJumanji\tAdventure\n');
    const raw = await loadSource('recbole', { inter, items: item });
    expect([...raw.interactions]).toEqual([
      { user: '1', item: '10', timestamp: 978300760 },
      { user: '1', item: '11', timestamp: 978300000 },
      { user: '2', item: '10', timestamp: 978301000 },
    ]);
    expect(raw.malformed.examples).toEqual([{ file: inter, line: 4, reason: 'expected 4 fields, got 1' }]);
    expect(raw.items.get('11')!.title).toBe('Jumanji');
  });

  it('refuses a file without a typed header', async () => {
    const d = tmp();
    await expect(loadSource('recbole', { inter: fixture(d, 'x.inter', 'user\titem\n1\t2\n') })).rejects.toThrow(/not a RecBole atomic interaction file/);
  });
});

describe('movielens loader', () => {
  it('reads ::-separated Latin-1 files from a directory', async () => {
    const d = tmp();
    fixture(d, 'ratings.dat', '1::1193::5::978300760\n1::661::3::978302109\n1:661\n2::1193::4::978298413\n');
    fixture(d, 'movies.dat', Buffer.concat([Buffer.from('1193::One Flew Over the Cuckoo\'s Nest (1975)::Drama\n661::'), Buffer.from([0x4d, 0xe9, 0x6c]), Buffer.from('ies (1996)::Animation|Children\'s\n')]));
    const raw = await loadSource('movielens', { dir: d });
    expect(raw.interactions).toHaveLength(3);
    expect(raw.malformed.examples[0]).toMatchObject({ line: 3 });
    expect(raw.items.get('661')).toMatchObject({ title: 'Mélies (1996)', categories: ['Animation', "Children's"] });
  });
});

describe('generic jsonl/csv loader', () => {
  it('reads JSONL interactions and JSONL items', async () => {
    const d = tmp();
    const interactions = fixture(d, 'i.jsonl', '{"user":"u","item":"a","timestamp":2}\n{"user":"u","item":"b","timestamp":"2024-01-01T00:00:00Z"}\n[1,2]\n{"user":"u"}\n');
    const items = fixture(d, 'items.jsonl', '{"id":"a","title":"Apple","text":"custom text"}\n{"id":"b","title":"Banana","categories":["Fruit"]}\n');
    const raw = await loadSource('jsonl', { interactions, items });
    expect([...raw.interactions]).toEqual([
      { user: 'u', item: 'a', timestamp: 2 },
      { user: 'u', item: 'b', timestamp: 1704067200 },
    ]);
    expect(raw.malformed.examples.map((m) => m.line)).toEqual([3, 4]);
    expect(raw.items.get('a')!.text).toBe('custom text');
    expect(raw.items.get('b')!.text).toBe('Banana. Category: Fruit');
  });

  it('reads CSV with aliased headers and quoted fields', async () => {
    const d = tmp();
    const interactions = fixture(d, 'i.csv', 'user_id,item_id,time\nu1,"a 1",5\nu1,b,6\nu2,b\n');
    const items = fixture(d, 'items.csv', 'id,title,brand\n"a 1","Apple, red",Acme\n');
    const raw = await loadSource('jsonl', { interactions, items });
    expect([...raw.interactions]).toEqual([
      { user: 'u1', item: 'a 1', timestamp: 5 },
      { user: 'u1', item: 'b', timestamp: 6 },
    ]);
    expect(raw.malformed.count).toBe(1);
    expect(raw.items.get('a 1')).toMatchObject({ title: 'Apple, red', brand: 'Acme' });
  });

  it('reads Parquet interactions and items (several row groups, 64-bit and timestamp columns, codecs) as it reads the same rows in JSONL', async () => {
    const d = tmp();
    const users = ['u1', 'u1', 'u2', 'u2', 'u2', 'u3'];
    const itemsOf = ['a', 'b', 'a', 'c', 'b', 'c'];
    const times = [100, 50, 7, 8, 9, 1];
    const inter = path.join(d, 'i.parquet');
    parquetWriteFile({
      filename: inter,
      codec: 'GZIP', // read through hyparquet-compressors
      compressors: { GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)) },
      rowGroupSize: 4,
      columnData: [
        { name: 'user_id', data: users, type: 'STRING' },
        { name: 'item_id', data: itemsOf, type: 'STRING' },
        { name: 'timestamp', data: BigInt64Array.from(times.map(BigInt)), type: 'INT64' },
      ],
    });
    const itemsFile = path.join(d, 'items.parquet');
    parquetWriteFile({
      filename: itemsFile,
      columnData: [
        { name: 'id', data: ['a', 'b', 'c'], type: 'STRING' },
        { name: 'title', data: ['Apple', 'Banana', null], type: 'STRING' },
        { name: 'categories', data: [['Fruit', 'Red'], [], ['Nut']] },
        { name: 'price', data: [1.5, 2, 3], type: 'DOUBLE' },
      ],
    });
    const jsonl = fixture(d, 'i.jsonl', users.map((u, i) => JSON.stringify({ user: u, item: itemsOf[i], timestamp: times[i] })).join('\n') + '\n');
    const itemsJsonl = fixture(d, 'items.jsonl', ['{"id":"a","title":"Apple","categories":["Fruit","Red"],"price":1.5}', '{"id":"b","title":"Banana","categories":[],"price":2}', '{"id":"c","categories":["Nut"],"price":3}'].join('\n') + '\n');
    const fromParquet = await loadSource('parquet', { interactions: inter, items: itemsFile });
    const fromJsonl = await loadSource('jsonl', { interactions: jsonl, items: itemsJsonl });
    expect([...fromParquet.interactions]).toEqual([...fromJsonl.interactions]);
    expect(fromParquet.interactions).toHaveLength(6);
    expect([...fromParquet.items.values()]).toEqual([...fromJsonl.items.values()]);
    // a TIMESTAMP column (a date) gives epoch seconds, as an ISO date in JSONL does
    const ts = path.join(d, 'ts.parquet');
    parquetWriteFile({ filename: ts, columnData: [{ name: 'user', data: ['u'], type: 'STRING' }, { name: 'item', data: ['a'], type: 'STRING' }, { name: 'time', data: [new Date('2024-01-01T00:00:00Z')], type: 'TIMESTAMP' }] });
    expect([...(await loadSource('jsonl', { interactions: ts })).interactions]).toEqual([{ user: 'u', item: 'a', timestamp: 1704067200 }]);
    // a damaged file is named, typed
    const broken = path.join(d, 'broken.parquet');
    writeFileSync(broken, Buffer.concat([readFileSync(inter).subarray(0, 40), Buffer.from('PAR1')]));
    await expect(loadSource('parquet', { interactions: broken })).rejects.toThrow(FormatError);
    await expect(loadSource('parquet', { interactions: broken })).rejects.toThrow(/broken.parquet.*not a readable Parquet file/);
  });
});

describe('item text cleaning', () => {
  it('decodes HTML entities once at import (named, decimal, hex), in every text field', async () => {
    const d = tmp();
    const sequences = fixture(d, 's.txt', '1 1 2\n');
    const datamaps = fixture(d, 'dm.json', JSON.stringify({ id2item: { '1': 'X', '2': 'Y' } }));
    const items = fixture(d, 'x.item', 'item_id:token\ttitle:token\tbrand:token\nX\tTom &amp; Jerry&#39;s &quot;Best&quot;  Shampoo\tL&#x27;Or&eacute;al\nY\tAT&amp;amp;T &lt;3\tB\n');
    const raw = await loadSource('recbole', { sequences, datamaps, items });
    const byId = raw.items;
    expect(byId.get('X')!.title).toBe('Tom & Jerry\'s "Best" Shampoo');
    expect(byId.get('X')!.brand).toBe("L'Oréal");
    expect(byId.get('X')!.text).toContain('Tom & Jerry');
    expect(byId.get('Y')!.title).toBe('AT&amp;T <3'); // decoded once: a literal "&amp;" in the source stays
  });
});
