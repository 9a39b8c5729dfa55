#!/usr/bin/env python3
"""Seed corpus for the `engine` fuzz target: bodies of every kind the engine
reads, each behind the four bytes the target takes its headers from (content
type, encoding, file name, chunk size; see fuzz_targets/engine.rs).

Run from the repository's root: python3 fuzz/seeds.py [OUT_DIR]
(default fuzz/corpus/engine). Only the standard library; the HAR files of
../shared/har and tests/fixtures are read when present."""
import json, os, sys, zipfile, gzip, zlib, io, tarfile, bz2, lzma, base64, hashlib, glob, re
out = sys.argv[1] if len(sys.argv) > 1 else 'fuzz/corpus/engine'
os.makedirs(out,exist_ok=True)
def seed(t,e,n,split,body):
    data=bytes([t,e,n,split])+body
    open(os.path.join(out,hashlib.sha1(data).hexdigest()),'wb').write(data)
# Indices into TYPES and ENCODINGS in fuzz_targets/engine.rs.
JSON=1;TEXT=2;CSV=3;FORM=4;MP=5;OCT=7;ZIP=8;PDF=9;HTML=10;XML=11;EML=12;RTF=13;TNEF=14;GZ=15;ZSTD=16;U16=17
GZIP_E=0x83; DEFL_E=0x84
for f in glob.glob('../shared/har/*.har')+glob.glob('tests/fixtures/**/*.har',recursive=True):
    try: h=json.load(open(f))
    except Exception: continue
    for ent in h.get('log',{}).get('entries',[]):
        pd=ent.get('request',{}).get('postData')
        if not pd or 'text' not in pd: continue
        body=pd['text'].encode('utf-8','replace')[:20000]
        mt=pd.get('mimeType','')
        t=JSON if 'json' in mt else FORM if 'urlencoded' in mt else MP if 'multipart' in mt else TEXT
        if t==MP:
            m=re.search(r'boundary=(\S+)',mt)
            if m: body=body.replace(m.group(1).strip('"').encode(),b'XyZ')
        seed(t,0,0,7,body)
text='客戶 陳大文 HKID A123456(3) 電話 6123 4567, card 4111 1111 1111 1111, 醫生紙 病假. IBAN GB82 WEST 1234 5698 7654 32 身份證 11010519491231002X mail chan@example.com\n'
seed(TEXT,0,0,3,text.encode())
seed(JSON,0,0,5,json.dumps({"msgtype":"text","text":{"content":text},"msgParam":json.dumps({"content":text}),"ts":1764384000000}).encode())
seed(JSON,0,0,9,json.dumps({"a":[{"b":text,"c":[1,2,"x\u00e9\ud83d\ude00"]}],"d":base64.b64encode(text.encode()*3).decode()}).encode())
seed(CSV,0,0,11,('姓名,電話,身份證\n'+'陳大文,6123 4567,A123456(3)\n'*5).encode())
seed(FORM,0,0,2,b'name=%E9%99%B3&id=A123456%283%29&phone=%2B853+6123+4567')
mp=b'--XyZ\r\nContent-Disposition: form-data; name="media"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\n'+text.encode()+b'\r\n--XyZ\r\nContent-Disposition: form-data; name="x"\r\n\r\n{"id":"A123456(3)"}\r\n--XyZ--\r\n'
seed(MP,0,0,13,mp)
def z(files):
    b=io.BytesIO()
    with zipfile.ZipFile(b,'w',zipfile.ZIP_DEFLATED) as zz:
        for k,v in files.items(): zz.writestr(k,v)
    return b.getvalue()
docx=z({'[Content_Types].xml':'<Types/>','word/document.xml':'<w:document><w:body><w:p><w:r><w:t>'+text+'</w:t></w:r></w:p></w:body></w:document>'})
seed(ZIP,0,1,20,docx); seed(OCT,0,1,200,docx)
xlsx=z({'[Content_Types].xml':'<Types/>','xl/sharedStrings.xml':'<sst><si><t>電話</t></si><si><t>6123 4567</t></si></sst>','xl/worksheets/sheet1.xml':'<worksheet><sheetData><row><c t="s"><v>0</v></c></row><row><c t="s"><v>1</v></c><c><v>4111111111111111</v></c></row></sheetData></worksheet>'})
seed(ZIP,0,2,30,xlsx)
seed(ZIP,0,3,40,z({'ppt/slides/slide1.xml':'<p:sld><a:t>'+text+'</a:t></p:sld>'}))
seed(ZIP,0,0,50,z({'inner.zip':z({'a.txt':text}),'b.csv':'電話\n61234567\n'}))
seed(GZ,0,0,60,gzip.compress(text.encode()*4))
seed(TEXT,GZIP_E,0,61,gzip.compress(text.encode()))
seed(JSON,DEFL_E,0,62,zlib.compress(json.dumps({"c":text}).encode()))
seed(OCT,0,0,63,bz2.compress(text.encode())); seed(OCT,0,0,64,lzma.compress(text.encode()))
tb=io.BytesIO()
with tarfile.open(fileobj=tb,mode='w') as tf:
    ti=tarfile.TarInfo('a.txt'); d=text.encode(); ti.size=len(d); tf.addfile(ti,io.BytesIO(d))
seed(OCT,0,9,70,tb.getvalue())
stream=zlib.compress(b'BT /F1 12 Tf (HKID A123456\\(3\\)) Tj [(phone 6123) -200 (4567)] TJ ET')
pdf=b"%PDF-1.4\n1 0 obj\n<< /Length "+str(len(stream)).encode()+b" /Filter /FlateDecode >>\nstream\n"+stream+b"\nendstream\nendobj\ntrailer\n<<>>\n%%EOF\n"
seed(PDF,0,5,80,pdf)
seed(HTML,0,0,90,('<html><body><table><tr><th>電話</th><th>HKID</th></tr><tr><td>6123 4567</td><td>A123456(3)</td></tr></table><p>醫生紙&amp;病假 &#x91AB;</p></body></html>').encode('utf-8'))
seed(XML,0,0,91,('<?xml version="1.0"?><r><phone>6123 4567</phone><![CDATA['+text+']]></r>').encode())
seed(EML,0,8,92,('From: a@b.c\r\nSubject: =?UTF-8?B?'+base64.b64encode('醫生紙'.encode()).decode()+'?=\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n--q\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHKID A123456=283=29\r\n--q\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n'+base64.encodebytes(gzip.compress(text.encode())).decode()+'\r\n--q--\r\n').encode())
seed(RTF,0,7,93,b'{\\rtf1\\ansi\\ansicpg950 {\\fonttbl} HKID A123456(3) \\u38651?\\u35441? 6123 4567 \\\'b9\\\'71 {\\*\\ignore x}\\par }')
seed(U16,0,0,94,('\ufeff'+text).encode('utf-16le'))
seed(OCT,0,0,95,('\ufeff'+text).encode('utf-16le'))
seed(OCT,0,0,96,b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR'+bytes(17)+b'\x00\x00\x00\x00IEND\xaeB`\x82')
seed(OCT,0,0,97,b'\xff\xd8\xff\xe0\x00\x10JFIF\x00'+bytes(100)+b'\xff\xd9')
# Media whose end no framing tells, text runs hidden in its coded bytes.
coded=hashlib.sha256(b'coded').digest()*8
for k,head in enumerate([b'OggS\x00\x02',b'ID3\x04\x00\x00\x00\x00\x00\x00',b'II*\x00\x08\x00\x00\x00',b'fLaC\x00\x00\x00\x22']):
    seed(OCT,0,0,98+k,head+coded+text.encode()+coded[:100]+text.encode()[:40]+coded)
for f in glob.glob('tests/fixtures/**/*',recursive=True):
    if os.path.isfile(f) and not f.endswith(('.har','.md')):
        b=open(f,'rb').read()[:60000]
        ext=f.rsplit('.',1)[-1]
        n={'docx':1,'xlsx':2,'pdf':5,'7z':10,'rar':11}.get(ext,0)
        seed(OCT,0,n,33,b)
        seed(0,0,n,140,b)
print(f'{len(os.listdir(out))} seeds in {out}')
