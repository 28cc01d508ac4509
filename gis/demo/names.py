"""Names for generated people, estates, organizations and roads (all fictitious)."""

from __future__ import annotations

import numpy as np

__all__ = ["Namer"]

SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国玉兰志红梅燕鹏辉斌宇浩凯晨欣怡子涵梓轩雨萱佳琪文博俊杰海峰新民"
)
MINORITY = [
    "阿依古丽",
    "买买提",
    "古丽娜尔",
    "艾力",
    "努尔兰",
    "阿曼古丽",
    "叶尔兰",
    "哈力木拉提",
    "热依汗",
    "吐尔逊",
    "阿力木",
    "加娜尔",
    "巴合提",
    "别克",
    "玛依拉",
    "沙吾列",
]
ESTATE_A = list("金银翠锦华盛富康泰和瑞祥嘉润御景新天福丰怡馨雅悦")
ESTATE_B = [
    "花园",
    "家园",
    "小区",
    "苑",
    "雅居",
    "名城",
    "新村",
    "公寓",
    "丽景",
    "水岸",
    "嘉园",
    "佳苑",
    "城",
    "府",
    "湾",
]
GOODS = [
    "便利店",
    "五金店",
    "餐馆",
    "拉面馆",
    "烤肉店",
    "理发店",
    "药店",
    "超市",
    "干洗店",
    "手机店",
    "烟酒店",
    "服装店",
    "快递站",
    "早餐店",
    "馕坑",
    "水果店",
    "茶叶店",
    "家电维修",
]
INDUSTRY = [
    "商贸",
    "建筑工程",
    "物流",
    "农业科技",
    "食品",
    "电子",
    "物业管理",
    "餐饮管理",
    "广告",
    "教育咨询",
    "运输",
    "装饰工程",
    "医药",
    "新能源",
    "化工",
    "纺织",
]
SOCIAL = ["志愿者协会", "社会工作服务中心", "老年协会", "书画协会", "调解委员会", "慈善会"]
CAMPUS = [
    ("school", "第{n}小学"),
    ("school", "第{n}中学"),
    ("school", "第{n}幼儿园"),
    ("hospital", "第{n}人民医院"),
    ("hospital", "中医医院"),
    ("hospital", "妇幼保健院"),
    ("government", "人民政府"),
    ("government", "市场监督管理局"),
    ("government", "税务局"),
    ("enterprise", "热电厂"),
    ("enterprise", "食品有限公司"),
    ("enterprise", "机械制造厂"),
    ("market", "农贸市场"),
    ("market", "建材市场"),
    ("school", "职业技术学院"),
]
ROAD_A = [
    "北京",
    "延安",
    "建国",
    "中山",
    "宁边",
    "绿洲",
    "长宁",
    "昆仑",
    "天山",
    "准噶尔",
    "亚中",
    "屯河",
    "世纪",
    "乌伊",
    "华山",
    "泰山",
    "健康",
    "文化",
    "光明",
    "和平",
    "团结",
    "友谊",
    "迎宾",
    "新华",
    "解放",
    "人民",
    "工业",
    "园林",
    "丝路",
    "阳光",
]
ROAD_KIND = {"arterial": ["大道", "路"], "secondary": ["路", "街"], "local": ["巷", "街", "路"]}
DIRECTIONS = ["东", "西", "南", "北", ""]


class Namer:
    """Deterministic fictitious names from one random generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self._estates: set[str] = set()

    def _pick(self, items: list[str]) -> str:
        return items[int(self.rng.integers(len(items)))]

    def person(self) -> str:
        if self.rng.random() < 0.25:
            return self._pick(MINORITY) + "·" + self._pick(MINORITY)
        given = self._pick(GIVEN) + (self._pick(GIVEN) if self.rng.random() < 0.7 else "")
        return self._pick(SURNAMES) + given

    def phone(self) -> str:
        return (
            "1"
            + str(self.rng.choice([35, 38, 39, 50, 58, 80, 89]))
            + "".join(str(d) for d in self.rng.integers(0, 10, 8))
        )

    def estate(self) -> str:
        for _ in range(20):
            name = self._pick(ESTATE_A) + self._pick(ESTATE_A) + self._pick(ESTATE_B)
            if name not in self._estates:
                self._estates.add(name)
                return name
        return name + str(len(self._estates))

    def shop(self) -> tuple[str, str]:
        return "shop", self._pick(SURNAMES) + "记" + self._pick(GOODS)

    def firm(self, place: str) -> tuple[str, str]:
        return "firm", f"昌吉{place}{self._pick(INDUSTRY)}有限公司"

    def social(self, place: str) -> tuple[str, str]:
        return "social_org", place + self._pick(SOCIAL)

    def campus(self, place: str, n: int) -> tuple[str, str]:
        category, pattern = CAMPUS[int(self.rng.integers(len(CAMPUS)))]
        return category, place + pattern.format(n=n)

    def road(self, road_class: str) -> str:
        kinds = ROAD_KIND.get(road_class, ["路"])
        return self._pick(ROAD_A) + self._pick(DIRECTIONS) + self._pick(kinds)
