/**
 * The deck as one self-contained HTML file: no network, system fonts, 16:9 slides of 1920×1080 CSS pixels scaled to
 * the window, body text of at least 28 px. Keys: → / Space / PageDown next, ← / PageUp back, Home / End, `s` opens
 * the speaker view (`?notes`: the slide, the next one and the notes, kept in step with the main window through a
 * BroadcastChannel); `#N` in the address opens slide N. Pure: slides in, a string out.
 */
import type { Slide } from './deck-slides.js';
import { FONT, xmlEscape } from './render-svg.js';

const CSS = `
*{box-sizing:border-box}
html,body{margin:0;height:100%;background:#1b1b1b;overflow:hidden}
body{font-family:${FONT};color:#111}
#stage{position:absolute;left:0;top:0;width:1920px;height:1080px;transform-origin:0 0}
.slide{display:none;position:absolute;inset:0;width:1920px;height:1080px;background:#fff;overflow:hidden}
.slide.current{display:block}
.slide.text,.slide.table,.slide.title{padding:80px 100px}
h1{font-size:76px;line-height:1.15;margin:180px 0 60px}
h2{font-size:56px;line-height:1.2;margin:0 0 48px}
p,li,td,th{font-size:36px;line-height:1.4}
.title p{font-size:40px;color:#333;margin:0 0 24px}
ul{margin:0;padding-left:48px}
li{margin:0 0 28px}
.single{font-size:40px;line-height:1.45;margin:0;max-width:1700px}
table{border-collapse:collapse;font-size:36px}
th{text-align:left;border-bottom:3px solid #111;padding:12px 40px 12px 0}
td{padding:14px 40px 14px 0;border-bottom:1px solid #ccc;vertical-align:top}
td:not(:first-child){font-weight:bold}
.svg svg{display:block;width:1920px;height:1080px}
#notes,#next{display:none}
body.notes #stage{transform:scale(.5)!important}
body.notes #notes{display:block;position:absolute;left:0;top:560px;width:100%;bottom:0;overflow:auto;padding:24px 40px;color:#eee;font-size:30px;line-height:1.4;white-space:pre-wrap}
body.notes #next{display:block;position:absolute;left:980px;top:20px;color:#ccc;font-size:28px;width:900px}
`;

const SCRIPT = `
(function(){
  var slides=[].slice.call(document.querySelectorAll('.slide'));
  var notesView=/[?&]notes\\b/.test(location.search);
  var channel=null;try{channel=new BroadcastChannel('hopwise-deck')}catch(e){}
  var at=0;
  function fit(){var st=document.getElementById('stage');var s=Math.min(innerWidth/1920,innerHeight/1080);
    st.style.transform='scale('+s+')';st.style.left=((innerWidth-1920*s)/2)+'px';st.style.top=((innerHeight-1080*s)/2)+'px';
    if(notesView){st.style.left='0px';st.style.top='0px'}}
  function show(n,quiet){at=Math.max(0,Math.min(slides.length-1,n));
    slides.forEach(function(s,i){s.classList.toggle('current',i===at)});
    if(location.hash!=='#'+(at+1))history.replaceState(null,'','#'+(at+1));
    var cur=slides[at];document.getElementById('notes').textContent=(cur.getAttribute('data-notes')||'');
    var nx=slides[at+1];document.getElementById('next').textContent=nx?'next: '+(nx.getAttribute('data-title')||''):'last slide';
    if(channel&&!quiet)channel.postMessage(at)}
  if(channel)channel.onmessage=function(e){show(e.data,true)};
  document.addEventListener('keydown',function(e){
    if(['ArrowRight','PageDown',' ','Enter'].indexOf(e.key)>=0){show(at+1);e.preventDefault()}
    else if(['ArrowLeft','PageUp','Backspace'].indexOf(e.key)>=0){show(at-1);e.preventDefault()}
    else if(e.key==='Home')show(0);else if(e.key==='End')show(slides.length-1);
    else if(e.key==='s'&&!notesView)open(location.pathname+'?notes#'+(at+1),'hopwise-notes')});
  addEventListener('hashchange',function(){show((parseInt(location.hash.slice(1),10)||1)-1,false)});
  addEventListener('resize',fit);
  if(notesView)document.body.classList.add('notes');
  fit();show((parseInt(location.hash.slice(1),10)||1)-1,true);
})();
`;

/** Makes the ids inside one inline SVG unique in the document (arrow heads: `url(#head-…)`). */
function inlineSvg(svg: string, n: number): string {
  return svg.replace(/^<\?xml[^>]*\?>\s*/, '').replaceAll('id="head-', `id="s${n}-head-`).replaceAll('url(#head-', `url(#s${n}-head-`);
}

function slideTitle(slide: Slide): string {
  return slide.kind === 'svg' ? slide.name : slide.title;
}

function slideBody(slide: Slide, n: number): string {
  switch (slide.kind) {
    case 'title':
      return `<h1>${xmlEscape(slide.title)}</h1>${slide.lines.map((l) => `<p>${xmlEscape(l)}</p>`).join('')}`;
    case 'svg':
      return inlineSvg(slide.svg, n);
    case 'text':
      return `<h2>${xmlEscape(slide.title)}</h2>${
        slide.items.length === 1
          ? `<p class="single">${xmlEscape(slide.items[0] ?? '')}</p>`
          : `<ul>${slide.items.map((i) => `<li>${xmlEscape(i)}</li>`).join('')}</ul>`
      }`;
    case 'table':
      return `<h2>${xmlEscape(slide.title)}</h2><table><thead><tr>${slide.columns.map((c) => `<th>${xmlEscape(c)}</th>`).join('')}</tr></thead><tbody>${slide.rows
        .map((r) => `<tr>${r.map((c) => `<td>${xmlEscape(c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table>`;
  }
}

/** The whole deck. */
export function renderDeckHtml(title: string, slides: readonly Slide[]): string {
  const sections = slides.map(
    (slide, i) =>
      `<section class="slide ${slide.kind}" id="slide-${i + 1}" data-title="${xmlEscape(slideTitle(slide))}" data-notes="${xmlEscape(slide.notes)}">${slideBody(slide, i + 1)}</section>`,
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${xmlEscape(title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    '<div id="stage">',
    ...sections,
    '</div>',
    '<div id="next"></div><div id="notes"></div>',
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}
